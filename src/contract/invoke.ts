/**
 * What the registry sends the function and what the function answers, as TypeBox schemas: the function parses its
 * events with them and types its answers by them, the API validates a prediction with them. These shapes are the
 * wire format between separately deployed parts (a rollback may route to a function version published long ago),
 * so a change here is a change of the contract the README's "Events and responses" describes.
 */
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import type { ModelPin } from './pin.js'
import { BucketNameSchema, ObjectKeySchema, Sha256Schema, TopKSchema, VersionIdSchema } from './schemas.js'

// ---- events ----

/**
 * The versions that answer one request (the `model` of a direct-invoke event, or an input object's metadata): both
 * version IDs, with optional digests the loader verifies. The bucket and keys are the function's configuration's.
 */
export const RequestPinSchema = Type.Object({
  weightsVersionId: VersionIdSchema,
  labelsVersionId: VersionIdSchema,
  weightsSha256: Type.Optional(Sha256Schema),
  labelsSha256: Type.Optional(Sha256Schema),
})
export type RequestPin = Static<typeof RequestPinSchema>

/** The user metadata with which an input object pins its own model (S3 answers metadata keys in lowercase). */
export const PIN_METADATA = {
  weightsVersionId: 'model-weights-version-id',
  labelsVersionId: 'model-labels-version-id',
  weightsSha256: 'model-weights-sha256',
  labelsSha256: 'model-labels-sha256',
} as const satisfies Record<keyof RequestPin, string>

/** The event's pin fields for `pin`: its version IDs, and its digests when it has them. */
export function eventPinOf (pin: Pick<ModelPin, 'weightsVersionId' | 'labelsVersionId' | 'weightsSha256' | 'labelsSha256'>): RequestPin {
  return {
    weightsVersionId: pin.weightsVersionId,
    labelsVersionId: pin.labelsVersionId,
    ...(pin.weightsSha256 === undefined ? {} : { weightsSha256: pin.weightsSha256 }),
    ...(pin.labelsSha256 === undefined ? {} : { labelsSha256: pin.labelsSha256 }),
  }
}

export const S3ImageSchema = Type.Object({
  bucket: BucketNameSchema,
  key: ObjectKeySchema,
  versionId: Type.Optional(VersionIdSchema),
}, { description: 'an image in S3 (at a version if given)' })

export const InlineImageSchema = Type.Object({
  base64: Type.String({ description: 'the image bytes, base64-encoded' }),
}, { description: 'an inline image' })

export const InvokeImageSchema = Type.Union([InlineImageSchema, S3ImageSchema])
export type InvokeImage = Static<typeof InvokeImageSchema>
/** True when `value` is an image a direct invoke accepts (S3 location or inline bytes). */
export const isInvokeImage = (value: unknown): value is InvokeImage => Value.Check(InvokeImageSchema, value)

/** A direct invocation: one image, classified with `model`'s versions if given, else the configuration's. */
export const InvokeEventSchema = Type.Object({
  image: InvokeImageSchema,
  model: Type.Optional(RequestPinSchema),
  topK: Type.Optional(TopKSchema),
})
export type InvokeEvent = Static<typeof InvokeEventSchema>

/** A warm-up by hand; EventBridge's scheduled event (`source: "aws.events"`) warms up too. */
export const WarmupEventSchema = Type.Object({ warmup: Type.Literal(true) })
export type WarmupEvent = Static<typeof WarmupEventSchema>

// ---- answers ----

export const PredictionSchema = Type.Object({
  index: Type.Integer({ description: 'the class\'s index in the model\'s output' }),
  label: Type.String(),
  score: Type.Number({ description: 'softmax probability' }),
})

/**
 * Which objects answered: the pin's locations and version IDs, the release (MODEL_RELEASE) when the pin is the
 * configuration's, and the digests when the pin has them. `release` and the digests are optional in the schema: a
 * version published before they existed answers without them.
 */
export const AnswerModelSchema = Type.Object({
  bucket: Type.String(),
  weightsKey: Type.String(),
  weightsVersionId: Type.String(),
  labelsKey: Type.String(),
  labelsVersionId: Type.String(),
  release: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], {
    description: 'the registry release whose configuration pinned this model; null when the pin came from the event or the input\'s metadata',
  })),
  weightsSha256: Type.Optional(Sha256Schema),
  labelsSha256: Type.Optional(Sha256Schema),
})
export type AnswerModel = Static<typeof AnswerModelSchema>

/** The `model` of an answer served with `pin`, which belongs to `release` (null: not the configuration's pin). */
export function answerModelOf (pin: ModelPin, release: number | null): AnswerModel {
  return {
    bucket: pin.bucket,
    weightsKey: pin.weightsKey,
    weightsVersionId: pin.weightsVersionId,
    labelsKey: pin.labelsKey,
    labelsVersionId: pin.labelsVersionId,
    release,
    ...(pin.weightsSha256 === undefined ? {} : { weightsSha256: pin.weightsSha256 }),
    ...(pin.labelsSha256 === undefined ? {} : { labelsSha256: pin.labelsSha256 }),
  }
}

/** Milliseconds, rounded to hundredths: the whole request, and its parts (image and model overlap). */
export const TimingsSchema = Type.Object({
  totalMs: Type.Number(),
  imageMs: Type.Number(),
  modelMs: Type.Number(),
  preprocessMs: Type.Number(),
  inferenceMs: Type.Number(),
})

/** The model cache of the execution environment that answered, after the request. */
export const CacheStatsSchema = Type.Object({
  hits: Type.Integer(),
  misses: Type.Integer(),
  loads: Type.Integer(),
  bytes: Type.Integer(),
})

export const EnvironmentSchema = Type.Object({
  id: Type.String({ description: 'made once per execution environment' }),
  coldStart: Type.Boolean({ description: 'true only for the first invocation the environment serves' }),
})
export type EnvironmentInfo = Static<typeof EnvironmentSchema>

/** The answer to a direct invocation. */
export const InvokeAnswerSchema = Type.Object({
  predictions: Type.Array(PredictionSchema, { description: 'best first' }),
  model: AnswerModelSchema,
  timings: TimingsSchema,
  cache: CacheStatsSchema,
  environment: EnvironmentSchema,
})
export type InvokeAnswer = Static<typeof InvokeAnswerSchema>

/** The answer to a warm-up: the configuration's model is loaded, no image was run. */
export const WarmupAnswerSchema = Type.Object({
  warm: Type.Literal(true),
  model: AnswerModelSchema,
  cache: CacheStatsSchema,
  environment: EnvironmentSchema,
})
export type WarmupAnswer = Static<typeof WarmupAnswerSchema>

/** The object of an S3 notification record; `versionId` null when the bucket is not versioned. */
export const S3InputSchema = Type.Object({
  bucket: Type.String(),
  key: Type.String(),
  versionId: Type.Union([Type.String(), Type.Null()]),
})

/** Written to `<OUTPUT_PREFIX><key>.json` for a record that was classified: the direct answer and its input. */
export const S3RecordOutputSchema = Type.Object({
  ...InvokeAnswerSchema.properties,
  input: S3InputSchema,
})
export type S3RecordOutput = Static<typeof S3RecordOutputSchema>

/** Written to `<OUTPUT_PREFIX><key>.error.json` for a record whose input was bad. */
export const S3RecordErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'the error\'s code, e.g. invalid_image' }),
    message: Type.String(),
  }),
  input: S3InputSchema,
})
export type S3RecordError = Static<typeof S3RecordErrorSchema>

/** What became of one record. */
export const S3RecordOutcomeSchema = Type.Object({
  input: S3InputSchema,
  output: Type.Optional(Type.String({ description: 'the key written to OUTPUT_BUCKET; absent when the record was skipped' })),
  error: Type.Optional(Type.String({ description: 'the error code, when the record\'s input was bad' })),
  skipped: Type.Optional(Type.String({ description: 'why the record was not classified' })),
})
export type S3RecordOutcome = Static<typeof S3RecordOutcomeSchema>

/** The answer to an S3 notification (Lambda discards it for asynchronous invocations; logs and tests read it). */
export const S3NotificationAnswerSchema = Type.Object({ records: Type.Array(S3RecordOutcomeSchema) })
export type S3NotificationAnswer = Static<typeof S3NotificationAnswerSchema>
