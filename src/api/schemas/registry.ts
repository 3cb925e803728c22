import { Type, type Static } from 'typebox'
import type { ArtifactKind, HistoryAction, HistoryOutcome, Role } from '../../registry/model.js'
import { DEFAULT_POLICY_MAX_AGE_SECONDS, MAX_POLICY_LATENCY_RATIO, MAX_POLICY_MAX_AGE_SECONDS } from '../../contract/limits.js'
import { BucketNameSchema, ObjectKeySchema, Sha256Schema } from '../../contract/schemas.js'
import { AliasNameSchema, ModelNameSchema, ReleaseNumberSchema, TimestampSchema } from './common.js'

/** The registry's objects as the API shows them (the shapes of src/registry/model.ts). */

export const S3LocationSchema = Type.Object({ bucket: BucketNameSchema, key: ObjectKeySchema }, { additionalProperties: false })
export const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('promoter'), Type.Literal('admin')])
export const ArtifactKindSchema = Type.Union([Type.Literal('weights'), Type.Literal('labels')])

/** The S3 versions a request or a Lambda version is pinned to (src/contract/pin.ts). */
export const PinSchema = Type.Object({
  bucket: Type.String(),
  weightsKey: Type.String(),
  weightsVersionId: Type.String(),
  weightsSha256: Type.Optional(Type.String()),
  labelsKey: Type.String(),
  labelsVersionId: Type.String(),
  labelsSha256: Type.Optional(Type.String()),
})

/** A model's promotion policy (DESIGN.md, "Promotion policy"); the registry checks the ranges and fills in maxAgeSeconds. */
export const PromotionPolicySchema = Type.Union([
  Type.Object({
    minAgreement: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'least agreement.top1 of the evaluation' })),
    maxErrorRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'most candidate errors / inputs' })),
    maxLatencyRatio: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_POLICY_LATENCY_RATIO, description: 'most candidate p95 / baseline p95 (warm invocations)' })),
    maxAgeSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_POLICY_MAX_AGE_SECONDS, description: `how old the evaluation may be, from its finishedAt (default ${DEFAULT_POLICY_MAX_AGE_SECONDS})` })),
  }, { additionalProperties: false }),
  Type.Null(),
], { description: 'what a promote or canary start of the deploy alias needs from an evaluation of the release against the served one; null: nothing' })

export const ModelSchema = Type.Object({
  name: Type.String(),
  bucket: Type.String(),
  weightsKey: Type.String(),
  labelsKey: Type.String(),
  functionName: Type.Union([Type.String(), Type.Null()], { description: 'the Lambda function; null for a registry-only model' }),
  functionAlias: Type.String({ description: 'the Lambda alias that the deploy alias drives' }),
  deployAlias: Type.String({ description: 'the registry alias that drives Lambda; every other alias is registry-only' }),
  gateImages: Type.Array(S3LocationSchema),
  prewarm: Type.Integer({ minimum: 0, description: 'concurrent warm-up invocations of the target version before a move routes Lambda; 0: none' }),
  promotionPolicy: PromotionPolicySchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  version: Type.Integer({ minimum: 1, description: '1 at registration, +1 per update; the ETag, and what an update\'s If-Match names' }),
})

export const ArtifactVersionSchema = Type.Object({
  versionId: Type.String(),
  isLatest: Type.Boolean(),
  lastModified: TimestampSchema,
  size: Type.Union([Type.Integer(), Type.Null()], { description: 'null for a delete marker' }),
  etag: Type.Union([Type.String(), Type.Null()]),
  deleteMarker: Type.Boolean(),
  sha256: Type.Union([Sha256Schema, Type.Null()], { description: 'when modelpin recorded it (an upload through the API, or a registered release); null otherwise' }),
})

export const ReleaseSchema = Type.Object({
  model: Type.String(),
  number: ReleaseNumberSchema,
  weightsVersionId: Type.String(),
  labelsVersionId: Type.String(),
  weightsSha256: Sha256Schema,
  labelsSha256: Sha256Schema,
  weightsSize: Type.Integer(),
  labelsSize: Type.Integer(),
  notes: Type.Union([Type.String(), Type.Null()]),
  createdAt: TimestampSchema,
  createdBy: Type.String({ description: 'the name of the token that registered it' }),
})

export const HistoryEntrySchema = Type.Object({
  at: TimestampSchema,
  actor: Type.String({ description: 'the name of the token that made the move' }),
  action: Type.Union([
    Type.Literal('promote'), Type.Literal('rollback'), Type.Literal('canary-start'), Type.Literal('canary-promote'),
    Type.Literal('canary-abort'), Type.Literal('canary-step'), Type.Literal('reconcile'),
  ]),
  fromRelease: Type.Union([Type.Integer(), Type.Null()]),
  toRelease: Type.Union([Type.Integer(), Type.Null()]),
  reason: Type.Union([Type.String(), Type.Null()]),
  outcome: Type.Union([Type.Literal('succeeded'), Type.Literal('failed'), Type.Literal('rejected')]),
  detail: Type.Union([Type.String(), Type.Null()]),
})

export const ModelParamsSchema = Type.Object({ model: ModelNameSchema })
export const ArtifactParamsSchema = Type.Object({ model: ModelNameSchema, kind: ArtifactKindSchema })
export const ReleaseParamsSchema = Type.Object({ model: ModelNameSchema, number: ReleaseNumberSchema })
export const AliasParamsSchema = Type.Object({ model: ModelNameSchema, alias: AliasNameSchema })

export type ModelParams = Static<typeof ModelParamsSchema>
export type ArtifactParams = Static<typeof ArtifactParamsSchema>
export type ReleaseParams = Static<typeof ReleaseParamsSchema>
export type AliasParams = Static<typeof AliasParamsSchema>

// The literal unions above restate the domain's; this fails to compile the day the two disagree.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export type SchemasMatchDomain = [
  Same<Static<typeof RoleSchema>, Role>,
  Same<Static<typeof ArtifactKindSchema>, ArtifactKind>,
  Same<Static<typeof HistoryEntrySchema>['action'], HistoryAction>,
  Same<Static<typeof HistoryEntrySchema>['outcome'], HistoryOutcome>
] extends [true, true, true, true] ? true : never
export const schemasMatchDomain: SchemasMatchDomain = true
