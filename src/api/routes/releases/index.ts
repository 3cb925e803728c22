import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { FreeTextSchema, VersionIdSchema } from '../../../contract/schemas.js'
import { actorOf } from '../../plugins/app/auth.js'
import { errorResponses } from '../../schemas/common.js'
import { ModelParamsSchema, ReleaseParamsSchema, ReleaseSchema } from '../../schemas/registry.js'

export const CreateReleaseBodySchema = Type.Object({
  weightsVersionId: VersionIdSchema,
  labelsVersionId: VersionIdSchema,
  notes: Type.Optional(Type.Union([FreeTextSchema, Type.Null()])),
}, { additionalProperties: false })
export type CreateReleaseBody = Static<typeof CreateReleaseBodySchema>

export const ReleaseListSchema = Type.Object({ releases: Type.Array(ReleaseSchema) })

/** Releases: numbered pairs of a weights version and a labels version. */
const releaseRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/models/:model/releases', {
    config: { role: 'promoter' },
    schema: {
      tags: ['releases'],
      summary: 'Register a release from a weights version and a labels version',
      description: 'Both versions must exist in S3; their sizes and sha256 are recorded (read by streaming a version whose metadata has none).',
      params: ModelParamsSchema,
      body: CreateReleaseBodySchema,
      response: { 201: ReleaseSchema, ...errorResponses(400, 401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const { weightsVersionId, labelsVersionId, notes } = request.body
    const release = await fastify.registry.createRelease(request.params.model,
      { weightsVersionId, labelsVersionId, notes: notes ?? null }, actorOf(request))
    request.log.info({ model: release.model, release: release.number, weightsVersionId, labelsVersionId }, 'release registered')
    return reply.code(201).send(release)
  })

  fastify.get('/models/:model/releases', {
    config: { role: 'viewer' },
    schema: {
      tags: ['releases'],
      summary: 'List releases',
      params: ModelParamsSchema,
      response: { 200: ReleaseListSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => ({ releases: await fastify.registry.listReleases(request.params.model) }))

  fastify.get('/models/:model/releases/:number', {
    config: { role: 'viewer' },
    schema: {
      tags: ['releases'],
      summary: 'Read a release',
      params: ReleaseParamsSchema,
      response: { 200: ReleaseSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => fastify.registry.getRelease(request.params.model, request.params.number))
}

export default releaseRoutes
