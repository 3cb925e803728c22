import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { DEFAULT_EVALUATION_INPUTS, MAX_EVALUATION_INPUTS, MAX_EVALUATION_LISTED, MAX_KEY_BYTES, MAX_TEXT_LENGTH } from '../../../contract/limits.js'
import { BucketNameSchema } from '../../../contract/schemas.js'
import { actorOf } from '../../plugins/app/auth.js'
import { errorResponses, ModelNameSchema, ReleaseNumberSchema, TimestampSchema } from '../../schemas/common.js'
import { ModelParamsSchema } from '../../schemas/registry.js'

const LatencySchema = Type.Union([Type.Object({ p50: Type.Number(), p95: Type.Number() }), Type.Null()],
  { description: 'Invoke round trips of warm environments only, in ms; null when there is none' })

export const EvaluationSchema = Type.Object({
  id: Type.String(),
  model: Type.String(),
  candidate: Type.Integer(),
  baseline: Type.Integer(),
  status: Type.Union([Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('failed')]),
  failure: Type.Union([Type.String(), Type.Null()], { description: 'why it failed; null otherwise' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  actor: Type.String(),
  startedAt: TimestampSchema,
  finishedAt: Type.Union([TimestampSchema, Type.Null()]),
  inputs: Type.Object({ bucket: Type.String(), prefix: Type.String(), count: Type.Integer({ description: 'inputs chosen' }) }),
  completed: Type.Integer({ description: 'inputs both sides answered (or failed) so far' }),
  agreement: Type.Union([Type.Object({
    top1: Type.Number({ minimum: 0, maximum: 1, description: 'share of inputs whose top-1 class index is the same' }),
    top5Overlap: Type.Number({ minimum: 0, maximum: 1, description: 'mean share of top-5 classes in common' }),
  }), Type.Null()], { description: 'over the inputs both sides answered; null when none' }),
  errors: Type.Object({ candidate: Type.Integer(), baseline: Type.Integer() }, { description: 'inputs answered with an error (or no answer after retries), per side' }),
  latencyMs: Type.Object({ candidate: LatencySchema, baseline: LatencySchema }),
  changes: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), count: Type.Integer() }),
    { description: 'inputs whose top-1 class changed, by (baseline label, candidate label), most frequent first, at most 20' }),
  verdict: Type.Union([Type.Object({ passed: Type.Boolean(), violations: Type.Array(Type.String()) }), Type.Null()],
    { description: 'against the model\'s promotion policy as it is now; null while running, when failed, or without a policy' }),
})

export const EvaluationListSchema = Type.Object({ evaluations: Type.Array(EvaluationSchema) })

export const CreateEvaluationBodySchema = Type.Object({
  candidate: ReleaseNumberSchema,
  baseline: Type.Optional(Type.With(ReleaseNumberSchema, { description: 'default: the release the deploy alias serves' })),
  inputs: Type.Object({
    bucket: BucketNameSchema,
    prefix: Type.Optional(Type.String({ maxLength: MAX_KEY_BYTES })),
    modifiedAfter: Type.Optional(Type.String({ format: 'date-time', description: 'only objects modified after this time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVALUATION_INPUTS, description: `the most recently modified objects taken (default ${DEFAULT_EVALUATION_INPUTS})` })),
  }, { additionalProperties: false }),
  reason: Type.Optional(Type.Union([Type.String({ maxLength: MAX_TEXT_LENGTH }), Type.Null()])),
}, { additionalProperties: false })
export type CreateEvaluationBody = Static<typeof CreateEvaluationBodySchema>

const EvaluationParamsSchema = Type.Object({ model: ModelNameSchema, id: Type.String({ minLength: 1, maxLength: 100 }) })

/** Evaluations: a candidate release against a baseline on recent real inputs, run in the background. */
const evaluationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/models/:model/evaluations', {
    config: { role: 'promoter' },
    schema: {
      tags: ['evaluations'],
      summary: 'Evaluate a candidate release against a baseline on the most recent objects of a bucket',
      description: `Lists at most ${MAX_EVALUATION_LISTED} objects under the prefix, takes the \`limit\` most recently modified, and invokes ` +
        'the candidate\'s and the baseline\'s own published Lambda versions on each (no alias moves) in the background. ' +
        'Answers 202 with the evaluation, `running`, and its URL in `Location`.',
      params: ModelParamsSchema,
      body: CreateEvaluationBodySchema,
      response: { 202: EvaluationSchema, ...errorResponses(400, 401, 403, 404, 422) },
    },
  }, async (request, reply) => {
    const evaluation = await fastify.registry.createEvaluation(request.params.model, request.body, actorOf(request))
    reply.header('location', `/v1/models/${encodeURIComponent(evaluation.model)}/evaluations/${encodeURIComponent(evaluation.id)}`)
    return reply.code(202).send(evaluation)
  })

  fastify.get('/models/:model/evaluations', {
    config: { role: 'viewer' },
    schema: {
      tags: ['evaluations'],
      summary: 'The model\'s evaluations, newest first',
      params: ModelParamsSchema,
      response: { 200: EvaluationListSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => ({ evaluations: await fastify.registry.listEvaluations(request.params.model) }))

  fastify.get('/models/:model/evaluations/:id', {
    config: { role: 'viewer' },
    schema: {
      tags: ['evaluations'],
      summary: 'One evaluation (`completed` grows while it runs)',
      params: EvaluationParamsSchema,
      response: { 200: EvaluationSchema, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => await fastify.registry.getEvaluation(request.params.model, request.params.id))
}

export default evaluationRoutes
