import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { MAX_FUNCTION_ALIAS_LENGTH, MAX_FUNCTION_NAME_LENGTH, MAX_GATE_IMAGES, MAX_PREWARM } from '../../../contract/limits.js'
import { BucketNameSchema, ObjectKeySchema } from '../../../contract/schemas.js'
import { ifMatchNumber, sendETag } from '../../if-match.js'
import { actorOf } from '../../plugins/app/auth.js'
import { AliasNameSchema, errorResponses, ModelNameSchema } from '../../schemas/common.js'
import { ModelParamsSchema, ModelSchema, PromotionPolicySchema, S3LocationSchema } from '../../schemas/registry.js'

// The registry validates each field (names, keys, function and alias patterns); the schemas here give types and
// bounds for the OpenAPI document without restating its rules.
const modelFields = {
  bucket: BucketNameSchema,
  weightsKey: ObjectKeySchema,
  labelsKey: ObjectKeySchema,
  functionName: Type.Union([Type.String({ minLength: 1, maxLength: MAX_FUNCTION_NAME_LENGTH, description: 'Lambda function name or ARN' }), Type.Null()], { description: 'omit or null for a registry-only model' }),
  functionAlias: Type.String({ minLength: 1, maxLength: MAX_FUNCTION_ALIAS_LENGTH, description: 'Lambda alias name' }),
  deployAlias: AliasNameSchema,
  gateImages: Type.Array(S3LocationSchema, { maxItems: MAX_GATE_IMAGES }),
  prewarm: Type.Integer({ minimum: 0, maximum: MAX_PREWARM, description: 'concurrent warm-up invocations of the target version before a move routes Lambda (default 1; 0: none)' }),
  promotionPolicy: PromotionPolicySchema,
}

export const CreateModelBodySchema = Type.Object({
  name: ModelNameSchema,
  bucket: modelFields.bucket,
  weightsKey: modelFields.weightsKey,
  labelsKey: modelFields.labelsKey,
  functionName: Type.Optional(modelFields.functionName),
  functionAlias: Type.Optional(modelFields.functionAlias),
  deployAlias: Type.Optional(modelFields.deployAlias),
  gateImages: Type.Optional(modelFields.gateImages),
  prewarm: Type.Optional(modelFields.prewarm),
  promotionPolicy: Type.Optional(modelFields.promotionPolicy),
}, { additionalProperties: false })
export type CreateModelBody = Static<typeof CreateModelBodySchema>

export const UpdateModelBodySchema = Type.Object({
  bucket: Type.Optional(modelFields.bucket),
  weightsKey: Type.Optional(modelFields.weightsKey),
  labelsKey: Type.Optional(modelFields.labelsKey),
  functionName: Type.Optional(modelFields.functionName),
  functionAlias: Type.Optional(modelFields.functionAlias),
  deployAlias: Type.Optional(modelFields.deployAlias),
  gateImages: Type.Optional(modelFields.gateImages),
  prewarm: Type.Optional(modelFields.prewarm),
  promotionPolicy: Type.Optional(modelFields.promotionPolicy),
}, { additionalProperties: false, minProperties: 1 })
export type UpdateModelBody = Static<typeof UpdateModelBodySchema>

export const ModelListSchema = Type.Object({ models: Type.Array(ModelSchema) })

export const ModelIfMatchHeadersSchema = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the model\'s version as its ETag (`"3"`) or bare (`3`); without it, concurrent updates apply one after the other' })),
})

/** Registering, updating and reading models. */
const modelRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/models', {
    config: { role: 'admin' },
    schema: {
      tags: ['models'],
      summary: 'Register a model',
      description: '`functionAlias` defaults to `live` and `deployAlias` to `production`; without `functionName` the model is registry-only. ' +
        'A (functionName, functionAlias) pair belongs to one model (409 `function_alias_taken`). The answer\'s ETag is the model\'s version.',
      body: CreateModelBodySchema,
      response: { 201: ModelSchema, ...errorResponses(400, 401, 403, 409, 422) },
    },
  }, async (request, reply) => {
    const model = await fastify.registry.createModel(request.body, actorOf(request))
    sendETag(reply, model.version)
    return reply.code(201).send(model)
  })

  fastify.get('/models', {
    config: { role: 'viewer' },
    schema: { tags: ['models'], summary: 'List models', response: { 200: ModelListSchema, ...errorResponses(401, 403) } },
  }, async () => ({ models: await fastify.registry.listModels() }))

  fastify.get('/models/:model', {
    config: { role: 'viewer' },
    schema: {
      tags: ['models'],
      summary: 'Read a model',
      description: 'The answer\'s ETag is the model\'s version.',
      params: ModelParamsSchema,
      response: { 200: ModelSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const model = await fastify.registry.getModel(request.params.model)
    sendETag(reply, model.version)
    return model
  })

  fastify.patch('/models/:model', {
    config: { role: 'admin' },
    schema: {
      tags: ['models'],
      summary: 'Update a model',
      description: 'Changes the fields given and bumps `version` (the answer\'s ETag). With If-Match, a stale version is 412 ' +
        '`revision_mismatch`; moving onto another model\'s (functionName, functionAlias) is 409 `function_alias_taken`.',
      params: ModelParamsSchema,
      headers: ModelIfMatchHeadersSchema,
      body: UpdateModelBodySchema,
      response: { 200: ModelSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 422) },
    },
  }, async (request, reply) => {
    const model = await fastify.registry.updateModel(request.params.model, request.body, actorOf(request),
      { ifMatch: ifMatchNumber(request, 'a model version') })
    sendETag(reply, model.version)
    return model
  })
}

export default modelRoutes
