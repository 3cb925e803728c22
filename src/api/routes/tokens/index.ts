import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { MAX_TOKEN_EXPIRES_IN_DAYS, MAX_TOKEN_NAME_LENGTH, MIN_TOKEN_EXPIRES_IN_DAYS } from '../../../contract/limits.js'
import { errorResponses, TimestampSchema } from '../../schemas/common.js'
import { RoleSchema } from '../../schemas/registry.js'

export const MintTokenBodySchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: MAX_TOKEN_NAME_LENGTH, description: 'who holds the token; recorded as the actor of their moves; unique among active tokens' }),
  role: RoleSchema,
  expiresInDays: Type.Optional(Type.Integer({
    minimum: MIN_TOKEN_EXPIRES_IN_DAYS, maximum: MAX_TOKEN_EXPIRES_IN_DAYS, description: 'the token expires this many days from now; without it, it lasts until revoked',
  })),
}, { additionalProperties: false })
export type MintTokenBody = Static<typeof MintTokenBodySchema>

const ExpiresAtSchema = Type.Union([TimestampSchema, Type.Null()], { description: 'null: never expires' })

export const MintedTokenSchema = Type.Object({
  id: Type.String({ description: 'the token\'s public id, for `GET /v1/tokens` and `DELETE /v1/tokens/{id}`' }),
  name: Type.String(),
  role: RoleSchema,
  token: Type.String({ description: 'shown once: only its sha256 is stored' }),
  expiresAt: ExpiresAtSchema,
})

export const TokenInfoSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  createdAt: TimestampSchema,
  expiresAt: ExpiresAtSchema,
  lastUsedAt: Type.Union([TimestampSchema, Type.Null()], { description: 'to the minute: written at most once a minute' }),
  revokedAt: Type.Union([TimestampSchema, Type.Null()]),
})

export const TokenListSchema = Type.Object({ tokens: Type.Array(TokenInfoSchema, { description: 'oldest first; never a secret' }) })

export const TokenParamsSchema = Type.Object({
  // any printable text (a NUL made PostgreSQL fail: found by fuzzing); an id that names no token is 404 token_not_found
  id: Type.String({ pattern: '^[\\x21-\\x7e]{1,100}$', description: 'a token id (`tok_...`), as `GET /v1/tokens` lists it' }),
}, { additionalProperties: false })

export const WhoamiSchema = Type.Object({
  name: Type.String(),
  role: RoleSchema,
  expiresAt: ExpiresAtSchema,
})

/** API tokens: an admin mints, lists and revokes tokens of any role; any token can ask who it is. */
const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/whoami', {
    config: { role: 'viewer' },
    schema: {
      tags: ['tokens'],
      summary: 'The calling token\'s name, role and expiry',
      response: { 200: WhoamiSchema, ...errorResponses(401, 429) },
    },
  }, async (request) => {
    const actor = request.actor!
    return { name: actor.name, role: actor.role, expiresAt: actor.expiresAt }
  })

  fastify.post('/tokens', {
    config: { role: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'Mint a token',
      body: MintTokenBodySchema,
      response: { 201: MintedTokenSchema, ...errorResponses(400, 401, 403, 409, 429) },
    },
  }, async (request, reply) => {
    const minted = await fastify.tokens.mint(request.body.name, request.body.role, { expiresInDays: request.body.expiresInDays })
    request.log.info({ id: minted.id, name: minted.name, role: minted.role, expiresAt: minted.expiresAt, by: request.actor?.name }, 'token minted')
    return reply.code(201).send(minted)
  })

  fastify.get('/tokens', {
    config: { role: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'List every token (revoked and expired ones included), never a secret',
      response: { 200: TokenListSchema, ...errorResponses(401, 403, 429) },
    },
  }, async () => ({ tokens: await fastify.tokens.list() }))

  fastify.delete('/tokens/:id', {
    config: { role: 'admin' },
    schema: {
      tags: ['tokens'],
      summary: 'Revoke a token: from then on it gets 401 on every replica',
      params: TokenParamsSchema,
      response: { 204: Type.Null({ description: 'revoked (or already revoked)' }), ...errorResponses(400, 401, 403, 404, 409, 429) },
    },
  }, async (request, reply) => {
    await fastify.tokens.revoke(request.params.id)
    request.log.info({ id: request.params.id, by: request.actor?.name }, 'token revoked')
    return await reply.code(204).send(null)
  })
}

export default tokenRoutes
