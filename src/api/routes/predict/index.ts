import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { InlineImageSchema, InvokeAnswerSchema, S3ImageSchema, type InvokeAnswer } from '../../../contract/invoke.js'
import { DEFAULT_TOP_K } from '../../../contract/limits.js'
import { TopKSchema } from '../../../contract/schemas.js'
import { AliasNameSchema, errorResponses, ReleaseNumberSchema } from '../../schemas/common.js'
import { ModelParamsSchema } from '../../schemas/registry.js'

/** Lambda's synchronous invocation payload limit is 6 MB, so a larger inline image could never reach the function. */
const PREDICT_BODY_LIMIT_BYTES = 6 * 1024 * 1024

/** The image of the function's event, refused here when it has fields the function would ignore or no bytes. */
export const PredictImageSchema = Type.Union([
  Type.Object(S3ImageSchema.properties, { additionalProperties: false, description: 'an image in S3 (at a version if given)' }),
  Type.Object({
    base64: Type.With(InlineImageSchema.properties.base64, { minLength: 1 }),
  }, { additionalProperties: false, description: 'an inline image' }),
])

export const PredictBodySchema = Type.Object({
  image: PredictImageSchema,
  release: Type.Optional(ReleaseNumberSchema),
  alias: Type.Optional(AliasNameSchema),
  topK: Type.Optional(Type.With(TopKSchema, { description: `default ${DEFAULT_TOP_K}` })),
}, { additionalProperties: false })
export type PredictBody = Static<typeof PredictBodySchema>

/** One prediction with any release, without moving anything. */
const predictRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/models/:model/predict', {
    config: { role: 'promoter' },
    bodyLimit: PREDICT_BODY_LIMIT_BYTES,
    schema: {
      tags: ['predict'],
      summary: 'Classify one image with a release, or the release of an alias (default the deploy alias)',
      description: 'The release\'s own published function version is invoked (published first when it has none), with no pin in the event; its answer is returned as is.',
      params: ModelParamsSchema,
      body: PredictBodySchema,
      response: { 200: InvokeAnswerSchema, ...errorResponses(400, 401, 403, 404, 422, 502) },
    },
  }, async (request) => {
    const { image, release, alias, topK } = request.body
    return await fastify.registry.predict(request.params.model, { image, release, alias, topK }) as InvokeAnswer
  })
}

export default predictRoutes
