import type { S3EventRecord, ScheduledEvent } from 'aws-lambda'
import type { TObject, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { Value } from 'typebox/value'
import {
  InvokeEventSchema, InvokeImageSchema, PIN_METADATA, RequestPinSchema, S3ImageSchema, WarmupEventSchema,
  type RequestPin,
} from '../src/contract/invoke.js'
import { DEFAULT_TOP_K, MAX_TOP_K } from '../src/contract/limits.js'
import { TopKSchema } from '../src/contract/schemas.js'
import { InvalidEventError, InvalidPinError, UnknownEventError, type InferenceError } from '../src/inference/errors.js'

export type { RequestPin }

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

// Compiled once per execution environment: every direct invocation is checked against the contract's schema.
const directEvent = Compile(InvokeEventSchema)
const warmupEvent = Compile(WarmupEventSchema)

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/** EventBridge's scheduled event (AWS's ScheduledEvent), which keeps the function warm. */
const isScheduledEvent = (event: Record<string, unknown>): event is Record<string, unknown> & Pick<ScheduledEvent, 'source' | 'detail-type'> =>
  event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event'

/** Tells the three event kinds apart and checks their fields; anything else is an UnknownEventError. */
export function parseEvent (event: unknown): InferenceEvent {
  if (!isObject(event)) throw new UnknownEventError(`the event is ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}, not an object`)
  if (warmupEvent.Check(event) || isScheduledEvent(event)) return { kind: 'warmup' }
  if (Array.isArray(event.Records)) return { kind: 's3', records: parseRecords(event.Records) }
  if ('image' in event) return parseDirect(event)
  const keys = Object.keys(event).slice(0, 5).join(', ')
  throw new UnknownEventError(`unknown event shape (keys: ${keys === '' ? 'none' : keys}); expected a direct invoke ` +
    '{"image": ...}, an S3 notification {"Records": [...]}, or a warm-up ({"warmup": true} or an EventBridge scheduled event)')
}

function parseDirect (event: Record<string, unknown>): InferenceEvent {
  if (!directEvent.Check(event)) throw directEventProblem(event)
  const { image, model, topK } = event
  const source: ImageSource = 'base64' in image
    ? { bytes: decodeBase64(image.base64) }
    : { bucket: image.bucket, key: image.key, versionId: image.versionId }
  // Only the pin's own fields: whatever else the caller sent must not reach the pin (a `bucket` would override the
  // configuration's).
  const pin = model === undefined
    ? undefined
    : { weightsVersionId: model.weightsVersionId, labelsVersionId: model.labelsVersionId, weightsSha256: model.weightsSha256, labelsSha256: model.labelsSha256 }
  return { kind: 'direct', image: source, pin, topK: topK ?? DEFAULT_TOP_K }
}

/** Names what the schema refused in a direct event, in the order a caller would fix it: the image, the pin, topK. */
function directEventProblem (event: Record<string, unknown>): InferenceError {
  const { image, model, topK } = event
  if (!Value.Check(InvokeImageSchema, image)) {
    // An S3 image with a malformed field says which; anything else is not an image source at all.
    const problem = isObject(image) && !('base64' in image) && 'bucket' in image && 'key' in image
      ? fieldProblem(S3ImageSchema, image, (field) => `image.${field}`)
      : undefined
    return new InvalidEventError(problem ?? 'image must be {"bucket", "key", "versionId"?} or {"base64"}')
  }
  if (model !== undefined && !Value.Check(RequestPinSchema, model)) {
    if (!isObject(model)) return new InvalidPinError('model must be an object {"weightsVersionId", "labelsVersionId", "weightsSha256"?, "labelsSha256"?}')
    try {
      const pin = requestPin((field) => model[field], 'the event\'s model', (field) => field)
      if (pin === undefined) return new InvalidPinError('the event\'s model names neither version; a pin names both the weights and the labels version')
    } catch (error) {
      if (error instanceof InvalidPinError) return error
      throw error
    }
  }
  if (!Value.Check(TopKSchema, topK ?? DEFAULT_TOP_K)) {
    return new InvalidEventError(`topK must be a positive integer up to ${MAX_TOP_K}, got ${JSON.stringify(topK)}`)
  }
  return new InvalidEventError('the event does not match the direct-invoke schema')
}

/** The first property of `value` that breaks `schema`, said in the words of the property's rule (its description). */
function fieldProblem (schema: TObject, value: Record<string, unknown>, name: (field: string) => string): string | undefined {
  for (const [field, property] of Object.entries(schema.properties) as Array<[string, TSchema & { description?: string }]>) {
    const v = value[field]
    if (v === undefined) {
      if (schema.required?.includes(field) === true) return `${name(field)} is missing`
      continue
    }
    if (!Value.Check(property, v)) {
      const rule = property.description ?? 'what the contract allows'
      return `${name(field)} must be ${rule}, got ${JSON.stringify(v)}`
    }
  }
  return undefined
}

/** Base64 as Lambda events carry it; whitespace (line breaks of wrapped text) is ignored. */
function decodeBase64 (value: string): Buffer {
  const text = value.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw new InvalidEventError('image.base64 is not valid base64')
  return Buffer.from(text, 'base64')
}

/**
 * Reads a pin from named fields (an event's `model`, or an object's user metadata): undefined when it names no
 * version, else both version IDs and any digests, each in the format of the contract's RequestPinSchema.
 */
export function requestPin (
  get: (field: string) => unknown, source: string, name: (field: keyof RequestPin) => string
): RequestPin | undefined {
  const fields = Object.keys(RequestPinSchema.properties) as Array<keyof RequestPin>
  const pin: Record<string, unknown> = {}
  for (const field of fields) {
    const value = get(name(field))
    if (value === undefined) continue
    if (typeof value !== 'string') throw new InvalidPinError(`${source}: ${name(field)} must be a string`)
    pin[field] = value
  }
  if (pin.weightsVersionId === undefined && pin.labelsVersionId === undefined) {
    if (Object.keys(pin).length > 0) throw new InvalidPinError(`${source}: a sha256 without the version IDs it belongs to`)
    return undefined
  }
  if (pin.weightsVersionId === undefined || pin.labelsVersionId === undefined) {
    const missing = name(pin.weightsVersionId === undefined ? 'weightsVersionId' : 'labelsVersionId')
    throw new InvalidPinError(`${source}: ${missing} is missing; a pin names both the weights and the labels version`)
  }
  const problem = fieldProblem(RequestPinSchema, pin, (field) => name(field as keyof RequestPin))
  if (problem !== undefined) throw new InvalidPinError(`${source}: ${problem}`)
  return pin as RequestPin
}

/** The pin an input object carries in its user metadata, if any. */
export function metadataPin (metadata: Record<string, string>, object: string): RequestPin | undefined {
  return requestPin((field) => metadata[field], `the metadata of ${object}`, (field) => PIN_METADATA[field])
}

/** The fields of an S3 notification record (AWS's S3EventRecord) that the function reads. */
type S3RecordFields = Pick<S3EventRecord, 'eventSource'> & Partial<Pick<S3EventRecord, 'eventName'>> & {
  s3: { bucket: Pick<S3EventRecord['s3']['bucket'], 'name'>, object: Pick<S3EventRecord['s3']['object'], 'key' | 'versionId'> }
}

function parseRecords (records: unknown[]): S3ObjectRecord[] {
  if (records.length === 0) throw new UnknownEventError('the event has an empty Records list')
  return records.map((record, i) => {
    const { eventName, s3: { bucket, object } } = s3Record(record, i)
    const versionId = typeof object.versionId === 'string' && object.versionId !== '' ? object.versionId : undefined
    const location = { bucket: bucket.name, key: decodeKey(object.key), versionId }
    // the same rules as a direct invoke's image (found by fuzzing: a key with a NUL made radosgw answer something the
    // SDK cannot parse, thrown as a transient failure and retried); S3 itself never notifies such a name
    if (!Value.Check(S3ImageSchema, location)) {
      throw new InvalidEventError(`Records[${i}]: ${fieldProblem(S3ImageSchema, location, (field) => `s3.${field === 'bucket' ? 'bucket.name' : `object.${field}`}`) ?? 'malformed S3 location'}`)
    }
    return { ...location, eventName: typeof eventName === 'string' ? eventName : undefined }
  })
}

function s3Record (record: unknown, i: number): S3RecordFields {
  if (!isObject(record) || record.eventSource !== 'aws:s3' || !isObject(record.s3)) {
    const source = isObject(record) ? JSON.stringify(record.eventSource) : typeof record
    throw new UnknownEventError(`Records[${i}] is not an S3 notification record (eventSource ${source}, expected "aws:s3")`)
  }
  const { bucket, object } = record.s3
  // empty names too (found by fuzzing): the SDK would refuse them with an error of its own, and the record would be
  // retried as a transient failure instead of refused as the bad input it is
  if (!isObject(bucket) || typeof bucket.name !== 'string' || bucket.name === '' || !isObject(object) || typeof object.key !== 'string' || object.key === '') {
    throw new UnknownEventError(`Records[${i}] has no s3.bucket.name or s3.object.key`)
  }
  return record as S3RecordFields
}

/** S3 URL-encodes keys in notifications, with spaces as '+'; a key that is not valid encoding is taken as it is. */
function decodeKey (key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '))
  } catch {
    return key
  }
}
