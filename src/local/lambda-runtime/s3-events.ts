/**
 * radosgw's bucket notifications, rewritten into the records AWS S3 sends to Lambda, so the handler only ever sees
 * AWS's shape. Measured on this machine's radosgw (Ceph 16.2, a topic with `push-endpoint`): each POST body is
 * `{"Records":[...]}` with `eventVersion` "2.2", `eventSource` "ceph:s3", `awsRegion` "", `eventTime` with
 * microseconds, the object key as stored (not URL-encoded), `versionId` "" on an unversioned bucket, and extra
 * members (`s3.bucket.id`, `s3.object.metadata`, `s3.object.tags`, `eventId`, `opaqueData`). Older Ceph releases
 * send `size` as a string and prefix `eventName` with `s3:`; both are accepted.
 */

/** An S3 event record as AWS delivers it to Lambda (event version 2.1). */
export interface S3EventRecord {
  eventVersion: string
  eventSource: 'aws:s3'
  awsRegion: string
  eventTime: string
  eventName: string
  userIdentity: { principalId: string }
  requestParameters: { sourceIPAddress: string }
  responseElements: { 'x-amz-request-id': string, 'x-amz-id-2': string }
  s3: {
    s3SchemaVersion: string
    configurationId: string
    bucket: { name: string, ownerIdentity: { principalId: string }, arn: string }
    object: { key: string, size?: number, eTag?: string, versionId?: string, sequencer: string }
  }
}

export class InvalidNotificationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidNotificationError'
  }
}

/** Rewrites a radosgw notification body (`{"Records": [...]}`) into AWS's records; throws on a body of another shape. */
export function rewriteRadosgwNotification (body: unknown, options: { region: string }): S3EventRecord[] {
  const records = isObject(body) ? body.Records : undefined
  if (!Array.isArray(records)) throw new InvalidNotificationError('a bucket notification needs a "Records" array')
  return records.map((record) => rewriteRadosgwRecord(record, options))
}

/** One radosgw record in AWS's shape (also accepts a record already in AWS's shape, unchanged in meaning). */
export function rewriteRadosgwRecord (record: unknown, options: { region: string }): S3EventRecord {
  if (!isObject(record) || !isObject(record.s3)) throw new InvalidNotificationError('a record needs an "s3" object')
  const { s3 } = record
  const bucket = isObject(s3.bucket) ? s3.bucket : {}
  const object = isObject(s3.object) ? s3.object : {}
  const bucketName = text(bucket.name)
  const key = typeof object.key === 'string' ? object.key : undefined
  if (bucketName === '' || key === undefined) throw new InvalidNotificationError('a record needs s3.bucket.name and s3.object.key')

  const eventName = text(record.eventName).replace(/^s3:/, '')
  const removed = eventName.startsWith('ObjectRemoved')
  const alreadyAws = record.eventSource === 'aws:s3'
  const size = Number(object.size)
  const versionId = text(object.versionId)
  const eTag = text(object.eTag).replaceAll('"', '')
  const responseElements = isObject(record.responseElements) ? record.responseElements : {}

  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: text(record.awsRegion) || options.region,
    eventTime: awsTime(record.eventTime),
    eventName,
    userIdentity: { principalId: text(isObject(record.userIdentity) ? record.userIdentity.principalId : undefined) },
    requestParameters: {
      sourceIPAddress: text(isObject(record.requestParameters) ? record.requestParameters.sourceIPAddress : undefined) || '127.0.0.1',
    },
    responseElements: {
      'x-amz-request-id': text(responseElements['x-amz-request-id']),
      'x-amz-id-2': text(responseElements['x-amz-id-2']),
    },
    s3: {
      s3SchemaVersion: text(s3.s3SchemaVersion) || '1.0',
      configurationId: text(s3.configurationId),
      bucket: {
        name: bucketName,
        ownerIdentity: { principalId: text(isObject(bucket.ownerIdentity) ? bucket.ownerIdentity.principalId : undefined) },
        arn: text(bucket.arn) || `arn:aws:s3:::${bucketName}`,
      },
      object: {
        key: alreadyAws ? key : encodeS3EventKey(key),
        // AWS sends no size or eTag for removals, and no versionId for an unversioned bucket
        ...(removed || !Number.isFinite(size) ? {} : { size }),
        ...(removed || eTag === '' ? {} : { eTag }),
        ...(versionId === '' ? {} : { versionId }),
        sequencer: text(object.sequencer),
      },
    },
  }
}

/**
 * An object key as S3 writes it in event notifications: form URL-encoding (a space is `+`, a `+` is `%2B`, UTF-8
 * bytes as `%XX`), with `/` left as it is.
 */
export function encodeS3EventKey (key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+')
    .replaceAll('%2F', '/')
}

// AWS writes event times with milliseconds (`2024-05-01T12:00:00.123Z`); radosgw with microseconds.
function awsTime (value: unknown): string {
  const parsed = typeof value === 'string' ? new Date(value) : new Date(Number.NaN)
  return Number.isNaN(parsed.getTime()) ? new Date().toISOString() : parsed.toISOString()
}

function text (value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number') return String(value)
  return ''
}

function isObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
