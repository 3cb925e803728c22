import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import {
  DEFAULT_HISTORY_LIMIT, MAX_CANARY_WEIGHT_EXCLUSIVE, MAX_HISTORY_LIMIT, MIN_CANARY_WEIGHT_EXCLUSIVE,
} from '../../../contract/limits.js'
import { FreeTextSchema } from '../../../contract/schemas.js'
import type { Alias } from '../../../registry/model.js'
import { ApiError } from '../../errors.js'
import { ifMatchNumber, sendETag } from '../../if-match.js'
import { actorOf } from '../../plugins/app/auth.js'
import { errorResponses, ReleaseNumberSchema, TimestampSchema } from '../../schemas/common.js'
import { AliasParamsSchema, HistoryEntrySchema, ModelParamsSchema, PinSchema } from '../../schemas/registry.js'

const CanarySchema = Type.Union([
  Type.Object({ release: Type.Integer(), weight: Type.Number({ description: 'share of invocations, 0 to 1' }) }),
  Type.Null(),
], { description: 'null when no canary runs' })

export const AliasSchema = Type.Object({
  model: Type.String(),
  alias: Type.String(),
  release: Type.Integer(),
  revision: Type.Integer({ description: 'bumped by every move; the ETag, and what If-Match names' }),
  updatedAt: TimestampSchema,
  canary: CanarySchema,
})

export const LiveSchema = Type.Object({
  functionName: Type.String(),
  functionAlias: Type.String(),
  functionVersion: Type.String(),
  release: Type.Union([Type.Integer(), Type.Null()], { description: 'the release this Lambda version was published for; null if none' }),
  pin: Type.Union([PinSchema, Type.Null()]),
  canary: Type.Union([Type.Object({
    functionVersion: Type.String(),
    release: Type.Union([Type.Integer(), Type.Null()]),
    weight: Type.Number(),
    pin: Type.Union([PinSchema, Type.Null()]),
  }), Type.Null()]),
}, { description: 'what Lambda serves (deploy alias of a model with a function; null otherwise)' })

export const AliasViewSchema = Type.Object({
  ...AliasSchema.properties,
  live: Type.Union([LiveSchema, Type.Null()]),
  drift: Type.Boolean({ description: 'Lambda serves something else than the registry says' }),
  liveError: Type.Optional(Type.String({ description: 'why Lambda could not be read (live is then null)' })),
})

const ReasonSchema = Type.Optional(Type.Union([FreeTextSchema, Type.Null()], { description: 'why; recorded in the history' }))

export const ForceSchema = Type.Optional(Type.Boolean({ description: 'admins only (403 for anyone else): skip the model\'s promotion policy; recorded in the history' }))

export const PromoteBodySchema = Type.Object({ release: ReleaseNumberSchema, reason: ReasonSchema, force: ForceSchema }, { additionalProperties: false })
export const RollbackBodySchema = Type.Object({
  to: Type.Optional(Type.Union([ReleaseNumberSchema, Type.Null()], { description: 'default: where the last move came from' })),
  reason: ReasonSchema,
}, { additionalProperties: false })
export const CanaryBodySchema = Type.Object({
  release: ReleaseNumberSchema,
  weight: Type.Number({ exclusiveMinimum: MIN_CANARY_WEIGHT_EXCLUSIVE, exclusiveMaximum: MAX_CANARY_WEIGHT_EXCLUSIVE, description: 'share of traffic to the candidate' }),
  reason: ReasonSchema,
  force: ForceSchema,
}, { additionalProperties: false })
export const CanaryStepBodySchema = Type.Union([
  Type.Object({ reason: ReasonSchema }, { additionalProperties: false }),
  Type.Null(),
])
export const HistoryQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY_LIMIT, description: `default ${DEFAULT_HISTORY_LIMIT}` })),
}, { additionalProperties: false })
export const AliasListSchema = Type.Object({ aliases: Type.Array(AliasViewSchema, { description: 'by name; each as the single alias read, `live` included' }) })
export const HistorySchema = Type.Object({ history: Type.Array(HistoryEntrySchema, { description: 'newest first' }) })

export const IfMatchHeadersSchema = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'the alias\'s revision as its ETag (`"7"`) or bare (`7`)' })),
})

export type PromoteBody = Static<typeof PromoteBodySchema>
export type RollbackBody = Static<typeof RollbackBodySchema>
export type CanaryBody = Static<typeof CanaryBodySchema>

/**
 * Statuses a move can answer besides 200: 409 when another move is in flight, 412 for a stale If-Match, 422 for a
 * gate, warm-up or promotion policy that refuses it, 502 when Lambda fails.
 */
const MOVE_ERRORS = errorResponses(400, 401, 403, 404, 409, 412, 422, 502)

/** Reading an alias, moving it (promote, rollback, canary steps) and its history. */
const aliasRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/models/:model/aliases', {
    config: { role: 'viewer' },
    schema: {
      tags: ['aliases'],
      summary: 'Every alias of a model that serves a release, each as the alias read shows it (live and drift included)',
      params: ModelParamsSchema,
      response: { 200: AliasListSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => ({ aliases: await fastify.registry.listAliasViews(request.params.model) }))

  fastify.get('/models/:model/aliases/:alias', {
    config: { role: 'viewer' },
    schema: {
      tags: ['aliases'],
      summary: 'Read an alias, what Lambda serves for it, and whether they drift apart',
      params: AliasParamsSchema,
      response: { 200: AliasViewSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    const view = await fastify.registry.getAlias(request.params.model, request.params.alias)
    return withETag(reply, view)
  })

  fastify.post('/models/:model/aliases/:alias/promote', {
    config: { role: 'promoter', aliasAction: 'promote' },
    schema: {
      tags: ['aliases'],
      summary: 'Point the alias at a release (creates the alias if new; the deploy alias moves Lambda too)',
      params: AliasParamsSchema,
      headers: IfMatchHeadersSchema,
      body: PromoteBodySchema,
      response: { 200: AliasSchema, ...MOVE_ERRORS },
    },
  }, async (request, reply) => {
    const { model, alias } = request.params
    const moved = await fastify.registry.promote(model, alias,
      { release: request.body.release, reason: request.body.reason, ifMatch: ifMatchOf(request), force: forceOf(request, request.body.force) }, actorOf(request))
    return withETag(reply, moved)
  })

  fastify.post('/models/:model/aliases/:alias/rollback', {
    config: { role: 'promoter', aliasAction: 'rollback' },
    schema: {
      tags: ['aliases'],
      summary: 'Move the alias back: to `to`, or to where its last move came from (two rollbacks toggle)',
      params: AliasParamsSchema,
      headers: IfMatchHeadersSchema,
      body: RollbackBodySchema,
      response: { 200: AliasSchema, ...MOVE_ERRORS },
    },
  }, async (request, reply) => {
    const { model, alias } = request.params
    const moved = await fastify.registry.rollback(model, alias,
      { to: request.body.to ?? undefined, reason: request.body.reason, ifMatch: ifMatchOf(request) }, actorOf(request))
    return withETag(reply, moved)
  })

  fastify.post('/models/:model/aliases/:alias/canary', {
    config: { role: 'promoter', aliasAction: 'canary-start' },
    schema: {
      tags: ['aliases'],
      summary: 'Send a share of the alias\'s traffic to a candidate release',
      params: AliasParamsSchema,
      headers: IfMatchHeadersSchema,
      body: CanaryBodySchema,
      response: { 200: AliasSchema, ...MOVE_ERRORS },
    },
  }, async (request, reply) => {
    const { model, alias } = request.params
    const { release, weight, reason, force } = request.body
    const moved = await fastify.registry.startCanary(model, alias,
      { release, weight, reason, ifMatch: ifMatchOf(request), force: forceOf(request, force) }, actorOf(request))
    return withETag(reply, moved)
  })

  // Promoting and aborting a canary take the same request and answer alike: only the registry step differs.
  const canarySteps = [{
    method: 'POST',
    url: '/models/:model/aliases/:alias/canary/promote',
    aliasAction: 'canary-promote',
    summary: 'Make the canary\'s release the whole alias',
    step: 'promoteCanary',
  }, {
    method: 'DELETE',
    url: '/models/:model/aliases/:alias/canary',
    aliasAction: 'canary-abort',
    summary: 'Remove the canary: all traffic back to the alias\'s release',
    step: 'abortCanary',
  }] as const
  for (const { method, url, aliasAction, summary, step } of canarySteps) {
    fastify.route({
      method,
      url,
      config: { role: 'promoter', aliasAction },
      schema: {
        tags: ['aliases'],
        summary,
        params: AliasParamsSchema,
        headers: IfMatchHeadersSchema,
        body: CanaryStepBodySchema,
        response: { 200: AliasSchema, ...MOVE_ERRORS },
      },
      handler: async (request, reply) => {
        const { model, alias } = request.params
        const moved = await fastify.registry[step](model, alias,
          { reason: request.body?.reason, ifMatch: ifMatchOf(request) }, actorOf(request))
        return withETag(reply, moved)
      },
    })
  }

  fastify.get('/models/:model/aliases/:alias/history', {
    config: { role: 'viewer' },
    schema: {
      tags: ['aliases'],
      summary: 'The alias\'s moves, newest first (failed and rejected attempts included)',
      params: AliasParamsSchema,
      querystring: HistoryQuerySchema,
      response: { 200: HistorySchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => ({
    history: await fastify.registry.history(request.params.model, request.params.alias, { limit: request.query.limit }),
  }))
}

/** An alias's ETag is its revision in quotes (`"7"`); If-Match takes it quoted or bare. */
function withETag<T extends Pick<Alias, 'revision'>> (reply: FastifyReply, alias: T): T {
  sendETag(reply, alias.revision)
  return alias
}

/**
 * `force` of a move's body: only an admin may skip the promotion policy; anyone else sending `"force": true` gets
 * 403 whether or not a policy applies, so that the answer never depends on the model's settings.
 */
export function forceOf (request: FastifyRequest, force: boolean | undefined): boolean {
  if (force !== true) return false
  if (request.actor?.role !== 'admin') throw new ApiError('forbidden', '"force": true skips the promotion policy and needs an admin token')
  return true
}

/** `If-Match: "7"` (the ETag as sent) or `If-Match: 7` (bare) is revision 7; absent is no precondition. */
export function ifMatchOf (request: FastifyRequest): number | undefined {
  return ifMatchNumber(request, 'an alias revision')
}

export default aliasRoutes
