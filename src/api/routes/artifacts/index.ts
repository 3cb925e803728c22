import { Readable } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../../../contract/limits.js'
import { Sha256Schema } from '../../../contract/schemas.js'
import { boundedBody, checkDeclaredLength, dropTheRest } from '../../bounded-body.js'
import { ApiError } from '../../errors.js'
import { errorResponses } from '../../schemas/common.js'
import { ArtifactParamsSchema, ArtifactVersionSchema } from '../../schemas/registry.js'

export const ListVersionsQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIST_LIMIT, default: DEFAULT_LIST_LIMIT, description: 'entries per page' })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'the `nextCursor` of the previous page' })),
}, { additionalProperties: false })
export type ListVersionsQuery = Static<typeof ListVersionsQuerySchema>

export const VersionListSchema = Type.Object({
  versions: Type.Array(ArtifactVersionSchema, { description: 'newest first, delete markers included' }),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' }),
})

export const UploadedSchema = Type.Object({
  versionId: Type.String({ description: 'the new S3 version' }),
  size: Type.Integer(),
  sha256: Sha256Schema,
})

/** S3 versions of a model's weights or labels: list them, or upload a new one. */
const artifactRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/models/:model/artifacts/:kind/versions', {
    config: { role: 'viewer' },
    schema: {
      tags: ['artifacts'],
      summary: 'List the S3 versions of the weights or labels, newest first',
      params: ArtifactParamsSchema,
      querystring: ListVersionsQuerySchema,
      response: { 200: VersionListSchema, ...errorResponses(400, 401, 403, 404, 422) },
    },
  }, async (request) => {
    const { model, kind } = request.params
    return fastify.registry.listArtifactVersions(model, kind, { limit: request.query.limit ?? 100, cursor: request.query.cursor })
  })

  await fastify.register(uploadRoute)
}

/**
 * The upload lives in a scope of its own, the only place where any content type is accepted and the body is not
 * parsed: the raw request stream goes to the registry, which spools and hashes it in constant memory. (Fastify's
 * bodyLimit only applies to the bodies it buffers, so it does not cap this stream.)
 */
const uploadRoute: FastifyPluginAsyncTypebox = async (scope) => {
  scope.removeAllContentTypeParsers()
  scope.addContentTypeParser('*', (request, payload, done) => { done(null, payload) })

  scope.put('/models/:model/artifacts/:kind', {
    config: { role: 'promoter' },
    schema: {
      tags: ['artifacts'],
      summary: 'Upload a new version of the weights or labels (any content type, streamed)',
      description: 'The body is the artifact\'s bytes. It is stored as exactly one new S3 version with its sha256 as user metadata.',
      params: ArtifactParamsSchema,
      response: { 201: UploadedSchema, ...errorResponses(400, 401, 403, 404, 408, 413, 422) },
    },
  }, async (request, reply) => {
    const { model, kind } = request.params
    const { maxUploadBytes, bodyTimeoutMs } = scope.config
    let uploaded
    try {
      checkDeclaredLength(request.headers['content-length'], maxUploadBytes)
      // an unknown model is refused before the body is touched, so the app can drain it (see app.ts)
      await scope.registry.getModel(model)
      const raw = request.body instanceof Readable ? boundedBody(request.body, { maxBytes: maxUploadBytes, idleMs: bodyTimeoutMs }) : undefined
      const body = raw === undefined ? undefined : await unlessEmpty(raw)
      if (body === undefined) throw new ApiError('empty_body', 'the upload has no body: send the artifact\'s bytes')
      uploaded = await scope.registry.uploadArtifact(model, kind, body, { contentType: request.headers['content-type'] })
    } catch (error) {
      // the rest of a refused body is not worth reading: a silent one's connection ends with the answer, one still
      // sending is read and dropped a little longer, so that it can read the answer (see dropTheRest)
      if (error instanceof ApiError && error.code === 'body_timeout') reply.header('connection', 'close')
      if (error instanceof ApiError && error.code === 'payload_too_large') dropTheRest(request.raw)
      throw error
    }
    request.log.info({ model, kind, versionId: uploaded.versionId, size: uploaded.size }, 'artifact uploaded')
    return reply.code(201).send(uploaded)
  })
}

/**
 * The same bytes as `stream`, or undefined when it carries none. A chunked request cannot tell its length up
 * front, so the first chunk is read and handed back in front of the rest.
 */
async function unlessEmpty (stream: Readable): Promise<Readable | undefined> {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const first = await chunks.next()
  if (first.done === true) return undefined
  return Readable.from((async function * () {
    try {
      yield first.value
      for (let next = await chunks.next(); next.done !== true; next = await chunks.next()) yield next.value
    } finally {
      // when the registry stops reading early (an error), the request stream is released too
      await chunks.return?.()
    }
  })(), { objectMode: false })
}

export default artifactRoutes
