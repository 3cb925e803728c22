import { InvalidEventError, InvalidPinError, UnknownEventError } from '../src/inference/errors.js'

/** The `model` of a direct event, or an input object's metadata: the versions that answer one request. */
export interface RequestPin {
  weightsVersionId: string
  labelsVersionId: string
  weightsSha256?: string | undefined
  labelsSha256?: string | undefined
}

export type ImageSource = { bucket: string, key: string, versionId?: string | undefined } | { bytes: Buffer }

/** One object of an S3 notification, its key decoded. */
export interface S3ObjectRecord {
  bucket: string
  key: string
  /** Absent when the bucket is not versioned. */
  versionId: string | undefined
  /** `ObjectCreated:Put`, ...; undefined when the record has none. */
  eventName: string | undefined
}

export type InferenceEvent =
  | { kind: 'direct', image: ImageSource, pin: RequestPin | undefined, topK: number }
  | { kind: 's3', records: S3ObjectRecord[] }
  | { kind: 'warmup' }

export const DEFAULT_TOP_K = 5

/** User metadata with which an input object pins its own model (S3 returns metadata keys in lowercase). */
export const METADATA_PIN = {
  weightsVersionId: 'model-weights-version-id',
  labelsVersionId: 'model-labels-version-id',
  weightsSha256: 'model-weights-sha256',
  labelsSha256: 'model-labels-sha256',
} as const

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** Tells direct invokes, S3 notifications and warm-ups apart and checks their fields; anything else is an UnknownEventError. */
export function parseEvent (event: unknown): InferenceEvent {
  if (!isObject(event)) throw new UnknownEventError(`the event is ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}, not an object`)
  if (event.warmup === true || (event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event')) {
    return { kind: 'warmup' }
  }
  if (Array.isArray(event.Records)) return { kind: 's3', records: parseRecords(event.Records) }
  if ('image' in event) return parseDirect(event)
  const keys = Object.keys(event).slice(0, 5).join(', ')
  throw new UnknownEventError(`unknown event shape (keys: ${keys === '' ? 'none' : keys}); expected a direct invoke ` +
    '{"image": ...}, an S3 notification {"Records": [...]}, or a warm-up ({"warmup": true} or an EventBridge scheduled event)')
}

function parseDirect (event: Record<string, unknown>): InferenceEvent {
  const image = event.image
  let source: ImageSource
  if (isObject(image) && typeof image.base64 === 'string') {
    const text = image.base64.replace(/\s+/g, '')
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw new InvalidEventError('image.base64 is not valid base64')
    source = { bytes: Buffer.from(text, 'base64') }
  } else if (isObject(image) && typeof image.bucket === 'string' && image.bucket !== '' && typeof image.key === 'string' && image.key !== '') {
    if (image.versionId !== undefined && (typeof image.versionId !== 'string' || image.versionId === '')) {
      throw new InvalidEventError('image.versionId must be a non-empty string when given')
    }
    source = { bucket: image.bucket, key: image.key, versionId: image.versionId }
  } else {
    throw new InvalidEventError('image must be {"bucket", "key", "versionId"?} or {"base64"}')
  }

  let pin: RequestPin | undefined
  if (event.model !== undefined) {
    if (!isObject(event.model)) throw new InvalidPinError('model must be an object {"weightsVersionId", "labelsVersionId", "weightsSha256"?, "labelsSha256"?}')
    pin = requestPin((field) => (event.model as Record<string, unknown>)[field], 'the event\'s model', (f) => f)
  }

  const topK = event.topK ?? DEFAULT_TOP_K
  if (typeof topK !== 'number' || !Number.isSafeInteger(topK) || topK < 1) {
    throw new InvalidEventError(`topK must be a positive integer, got ${JSON.stringify(event.topK)}`)
  }
  return { kind: 'direct', image: source, pin, topK }
}

/**
 * Reads a pin from named fields (an event's `model`, or an object's user metadata): both version IDs or neither.
 * Version ID and digest formats are checked where every pin is (validatePin).
 */
export function requestPin (
  get: (field: string) => unknown, source: string, name: (field: keyof RequestPin) => string
): RequestPin | undefined {
  const text = (field: keyof RequestPin): string | undefined => {
    const v = get(name(field))
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string') throw new InvalidPinError(`${source}: ${name(field)} must be a string`)
    return v
  }
  const weightsVersionId = text('weightsVersionId')
  const labelsVersionId = text('labelsVersionId')
  if (weightsVersionId === undefined && labelsVersionId === undefined) {
    if (text('weightsSha256') !== undefined || text('labelsSha256') !== undefined) {
      throw new InvalidPinError(`${source}: a sha256 without the version IDs it belongs to`)
    }
    return undefined
  }
  if (weightsVersionId === undefined || labelsVersionId === undefined) {
    const missing = weightsVersionId === undefined ? name('weightsVersionId') : name('labelsVersionId')
    throw new InvalidPinError(`${source}: ${missing} is missing; a pin names both the weights and the labels version`)
  }
  return { weightsVersionId, labelsVersionId, weightsSha256: text('weightsSha256'), labelsSha256: text('labelsSha256') }
}

/** The pin an input object carries in its user metadata, if any. */
export function metadataPin (metadata: Record<string, string>, object: string): RequestPin | undefined {
  return requestPin((field) => metadata[field], `the metadata of ${object}`, (field) => METADATA_PIN[field])
}

function parseRecords (records: unknown[]): S3ObjectRecord[] {
  if (records.length === 0) throw new UnknownEventError('the event has an empty Records list')
  return records.map((record, i) => {
    if (!isObject(record) || record.eventSource !== 'aws:s3' || !isObject(record.s3)) {
      const source = isObject(record) ? JSON.stringify(record.eventSource) : typeof record
      throw new UnknownEventError(`Records[${i}] is not an S3 notification record (eventSource ${source}, expected "aws:s3")`)
    }
    const { bucket, object } = record.s3
    if (!isObject(bucket) || typeof bucket.name !== 'string' || !isObject(object) || typeof object.key !== 'string') {
      throw new UnknownEventError(`Records[${i}] has no s3.bucket.name or s3.object.key`)
    }
    const versionId = typeof object.versionId === 'string' && object.versionId !== '' ? object.versionId : undefined
    const eventName = typeof record.eventName === 'string' ? record.eventName : undefined
    return { bucket: bucket.name, key: decodeKey(object.key), versionId, eventName }
  })
}

/** S3 URL-encodes keys in notifications, with spaces as '+'; a key that is not valid encoding is taken as it is. */
function decodeKey (key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '))
  } catch {
    return key
  }
}
