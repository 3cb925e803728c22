import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { MAX_TOKEN_NAME_LENGTH } from '../../../contract/limits.js'
import { errorResponses } from '../../schemas/common.js'
import { RoleSchema } from '../../schemas/registry.js'

export const MintTokenBodySchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX_TOKEN_NAME_LENGTH, description: 'who holds the token; recorded as the actor of their moves' }),
  role: RoleSchema,
}, { additionalProperties: false })
export type MintTokenBody = Static<typeof MintTokenBodySchema>

export const MintedTokenSchema = Type.Object({
  name: Type.String(),
  role: RoleSchema,
  token: Type.String({ description: 'shown once: only its sha256 is stored' }),
})

export const WhoamiSchema = Type.Object({
  name: Type.String(),
  role: RoleSchema,
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
})

/** API tokens: an admin mints tokens of any role; any token can ask who it is. */
const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/whoami', {
    config: { role: 'viewer' },
    schema: {
      tags: ['tokens'],
      summary: 'The calling token\'s name, role and expiry',
      response: { 200: WhoamiSchema, ...errorResponses(401) },
    },
  }, async (request) => {
    const actor = request.actor!
    return { name: actor.name, role: actor.role, expiresAt: null }
  })

  fastify.post('/tokens', {
    config: { role: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'Mint a token',
      body: MintTokenBodySchema,
      response: { 201: MintedTokenSchema, ...errorResponses(400, 401, 403) },
    },
  }, async (request, reply) => {
    const minted = await fastify.tokens.mint(request.body.name, request.body.role)
    request.log.info({ name: minted.name, role: minted.role, by: request.actor?.name }, 'token minted')
    return reply.code(201).send(minted)
  })
}

export default tokenRoutes
