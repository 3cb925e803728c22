import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import {
  MAX_CANARY_WEIGHT_EXCLUSIVE, MAX_ROLLOUT_STEP_SECONDS, MAX_ROLLOUT_STEPS, MAX_TEXT_LENGTH, MIN_CANARY_WEIGHT_EXCLUSIVE,
  MIN_ROLLOUT_STEP_SECONDS, DEFAULT_MIN_INVOCATIONS,
} from '../../../contract/limits.js'
import { actorOf } from '../../plugins/app/auth.js'
import { AliasNameSchema, errorResponses, ModelNameSchema, ReleaseNumberSchema, TimestampSchema } from '../../schemas/common.js'
import { AliasParamsSchema } from '../../schemas/registry.js'
import { ForceSchema, forceOf, IfMatchHeadersSchema, ifMatchOf } from '../aliases/index.js'

const FiguresSchema = Type.Object({
  invocations: Type.Integer(),
  errors: Type.Integer(),
  p95Ms: Type.Union([Type.Number(), Type.Null()], { description: 'Duration p95 as Lambda reports it; null without invocations' }),
})

const CriteriaSchema = Type.Object({
  maxErrorRate: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], { description: 'candidate Errors / Invocations at most this' })),
  maxLatencyRatio: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()], { description: 'candidate p95 / stable p95 at most this (when both sides have minInvocations)' })),
  minInvocations: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()], { description: `candidate invocations a step needs to be judged (default ${DEFAULT_MIN_INVOCATIONS})` })),
}, { additionalProperties: false })

export const RolloutSchema = Type.Object({
  id: Type.String(),
  model: Type.String(),
  alias: Type.String(),
  release: Type.Integer({ description: 'the candidate' }),
  stableRelease: Type.Integer({ description: 'the release the alias served when the rollout started' }),
  status: Type.Union([
    Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('aborted'), Type.Literal('inconclusive'), Type.Literal('cancelled'), Type.Literal('failed'),
  ]),
  failure: Type.Union([Type.String(), Type.Null()], { description: 'why it aborted, was inconclusive or failed' }),
  steps: Type.Array(Type.Number()),
  currentStep: Type.Integer({ description: '0-based index into steps' }),
  stepSeconds: Type.Integer(),
  criteria: Type.Object({
    maxErrorRate: Type.Union([Type.Number(), Type.Null()]),
    maxLatencyRatio: Type.Union([Type.Number(), Type.Null()]),
    minInvocations: Type.Integer(),
  }),
  startedAt: TimestampSchema,
  finishedAt: Type.Union([TimestampSchema, Type.Null()]),
  actor: Type.String(),
  reason: Type.Union([Type.String(), Type.Null()]),
  observations: Type.Array(Type.Object({
    step: Type.Integer(),
    weight: Type.Number(),
    candidate: FiguresSchema,
    stable: FiguresSchema,
    passed: Type.Boolean(),
    violations: Type.Array(Type.String(), { description: '"<criterion>: <measured> vs <limit>"' }),
  })),
})

export const RolloutListSchema = Type.Object({ rollouts: Type.Array(RolloutSchema) })

export const RolloutBodySchema = Type.Object({
  release: ReleaseNumberSchema,
  steps: Type.Array(Type.Number({ exclusiveMinimum: MIN_CANARY_WEIGHT_EXCLUSIVE, exclusiveMaximum: MAX_CANARY_WEIGHT_EXCLUSIVE }), {
    minItems: 1, maxItems: MAX_ROLLOUT_STEPS, description: 'canary weights, increasing',
  }),
  stepSeconds: Type.Integer({ minimum: MIN_ROLLOUT_STEP_SECONDS, maximum: MAX_ROLLOUT_STEP_SECONDS, description: 'at least MODELPIN_METRICS_PERIOD_SECONDS' }),
  criteria: Type.Optional(CriteriaSchema),
  reason: Type.Optional(Type.Union([Type.String({ maxLength: MAX_TEXT_LENGTH }), Type.Null()])),
  force: ForceSchema,
}, { additionalProperties: false })

const RolloutParamsSchema = Type.Object({ model: ModelNameSchema, alias: AliasNameSchema, id: Type.String({ maxLength: 100 }) })
const CancelBodySchema = Type.Union([
  Type.Object({ reason: Type.Optional(Type.Union([Type.String({ maxLength: MAX_TEXT_LENGTH }), Type.Null()])) }, { additionalProperties: false }),
  Type.Null(),
])

/** Rollouts: canary steps of the deploy alias, each judged on Lambda's metrics, promoted or rolled back on their own. */
const rolloutRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/models/:model/aliases/:alias/rollouts', {
    config: { role: 'promoter', aliasAction: 'canary-start' },
    schema: {
      tags: ['rollouts'],
      summary: 'Start a rollout: the first step (a canary) runs now, the controller judges and moves the next ones',
      params: AliasParamsSchema,
      headers: IfMatchHeadersSchema,
      body: RolloutBodySchema,
      response: { 202: RolloutSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 422, 502, 503) },
    },
  }, async (request, reply) => {
    const { model, alias } = request.params
    const { release, steps, stepSeconds, criteria, reason, force } = request.body
    const rollout = await fastify.registry.startRollout(model, alias, {
      release,
      steps,
      stepSeconds,
      criteria: criteria === undefined
        ? undefined
        : {
            maxErrorRate: criteria.maxErrorRate ?? null,
            maxLatencyRatio: criteria.maxLatencyRatio ?? null,
            minInvocations: criteria.minInvocations ?? DEFAULT_MIN_INVOCATIONS,
          },
      reason,
      ifMatch: ifMatchOf(request),
      force: forceOf(request, force),
    }, actorOf(request))
    reply.header('location', `/v1/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(alias)}/rollouts/${rollout.id}`)
    return reply.code(202).send(rollout)
  })

  fastify.get('/models/:model/aliases/:alias/rollouts', {
    config: { role: 'viewer' },
    schema: {
      tags: ['rollouts'],
      summary: 'The rollouts of an alias, newest first',
      params: AliasParamsSchema,
      response: { 200: RolloutListSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => ({ rollouts: await fastify.registry.listRollouts(request.params.model, request.params.alias) }))

  fastify.get('/models/:model/aliases/:alias/rollouts/:id', {
    config: { role: 'viewer' },
    schema: {
      tags: ['rollouts'],
      summary: 'One rollout with every observation',
      params: RolloutParamsSchema,
      response: { 200: RolloutSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => await fastify.registry.getRollout(request.params.model, request.params.alias, request.params.id))

  fastify.delete('/models/:model/aliases/:alias/rollouts/:id', {
    config: { role: 'promoter', aliasAction: 'canary-abort' },
    schema: {
      tags: ['rollouts'],
      summary: 'Cancel a running rollout: its canary is aborted',
      params: RolloutParamsSchema,
      headers: IfMatchHeadersSchema,
      body: CancelBodySchema,
      response: { 200: RolloutSchema, ...errorResponses(400, 401, 403, 404, 409, 412, 502, 503) },
    },
  }, async (request) => {
    const { model, alias, id } = request.params
    return await fastify.registry.cancelRollout(model, alias, id, { reason: request.body?.reason, ifMatch: ifMatchOf(request) }, actorOf(request))
  })
}

export default rolloutRoutes
