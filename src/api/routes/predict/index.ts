import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { AliasNameSchema, errorResponses, ReleaseNumberSchema } from '../../schemas/common.js'
import { BucketNameSchema, ModelParamsSchema, ObjectKeySchema } from '../../schemas/registry.js'

/** Lambda's synchronous invocation payload limit is 6 MB, so a larger inline image could never reach the function. */
const PREDICT_BODY_LIMIT_BYTES = 6 * 1024 * 1024

export const PredictImageSchema = Type.Union([
  Type.Object({
    bucket: BucketNameSchema,
    key: ObjectKeySchema,
    versionId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  }, { additionalProperties: false, description: 'an image in S3 (at a version if given)' }),
  Type.Object({
    base64: Type.String({ minLength: 1, description: 'the image bytes, base64-encoded' }),
  }, { additionalProperties: false, description: 'an inline image' }),
])

export const PredictBodySchema = Type.Object({
  image: PredictImageSchema,
  release: Type.Optional(ReleaseNumberSchema),
  alias: Type.Optional(AliasNameSchema),
  topK: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'default 5' })),
}, { additionalProperties: false })
export type PredictBody = Static<typeof PredictBodySchema>

/** The function's answer to a direct invoke (predictions, model, timings, cache, environment), passed through as it comes. */
export const PredictionSchema = Type.Object({
  predictions: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), label: Type.String(), score: Type.Number() }))),
  model: Type.Optional(Type.Object({}, { additionalProperties: true })),
  timings: Type.Optional(Type.Object({}, { additionalProperties: true })),
  cache: Type.Optional(Type.Object({}, { additionalProperties: true })),
  environment: Type.Optional(Type.Object({}, { additionalProperties: true })),
}, { additionalProperties: true })

/** One prediction with any release, without moving anything. */
const predictRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/models/:model/predict', {
    config: { role: 'promoter' },
    bodyLimit: PREDICT_BODY_LIMIT_BYTES,
    schema: {
      tags: ['predict'],
      summary: 'Classify one image with a release, or the release of an alias (default the deploy alias)',
      description: 'The function is invoked with that release\'s pins in the event; its answer is returned as is.',
      params: ModelParamsSchema,
      body: PredictBodySchema,
      response: { 200: PredictionSchema, ...errorResponses(400, 401, 403, 404, 422, 502) },
    },
  }, async (request) => {
    const { image, release, alias, topK } = request.body
    return await fastify.registry.predict(request.params.model, { image, release, alias, topK }) as Static<typeof PredictionSchema>
  })
}

export default predictRoutes
