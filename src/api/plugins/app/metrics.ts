import fp from 'fastify-plugin'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { RegistryObserver } from '../../../registry/registry.js'
import { ROLLOUT_STATUSES, type HistoryAction } from '../../../registry/model.js'
import type { ErrorCode } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry, moves: RegistryObserver }
  }
  interface FastifyReply {
    /** the error code this reply answered with (set by the app's error handler), null on success */
    errorCode: ErrorCode | null
  }
  interface FastifyContextConfig {
    /** set on the routes that move an alias, so the promotions counter knows which action a request was */
    aliasAction?: HistoryAction
  }
}

/**
 * Prometheus metrics in a registry of the app's own (two apps in one process, as in tests, do not share counters):
 * requests by method, route pattern and status, their latency, and alias moves by action and outcome (`succeeded`
 * or the error code that stopped them, e.g. `revision_mismatch`, `gate_rejected`, `deploy_failed`), and what
 * reconciles find and do: drift per deploy alias, adoptions, lock take-overs; and the Lambda calls made to read it.
 */
export default fp(async function metricsPlugin (fastify) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'modelpin_' })
  const labelNames = ['method', 'route', 'status_code'] as const
  const requests = new Counter({
    name: 'modelpin_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames,
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'modelpin_http_request_duration_seconds',
    help: 'time from the request\'s arrival to the end of its answer, by method, route pattern and status',
    labelNames,
    // uploads of large weights and promotions through Lambda take seconds; reads take milliseconds
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  })
  const promotions = new Counter({
    name: 'modelpin_promotions_total',
    help: 'alias moves (promote, rollback, canary steps) by action and outcome',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  })

  const drift = new Gauge({
    name: 'modelpin_alias_drift',
    help: '1 when Lambda\'s alias serves something other than the registry says (at the last reconcile), else 0',
    labelNames: ['model', 'alias'] as const,
    registers: [registry],
  })
  const adoptions = new Counter({
    name: 'modelpin_reconcile_adoptions_total',
    help: 'deploy aliases adopted from what Lambda serves by a reconcile (drift no recorded move explains)',
    registers: [registry],
  })
  const takeovers = new Counter({
    name: 'modelpin_lock_takeovers_total',
    help: 'alias locks taken over from a process that stopped renewing them (its move then settled)',
    registers: [registry],
  })
  const lambdaCalls = new Counter({
    name: 'modelpin_lambda_calls_total',
    help: 'Lambda control-plane calls made to read what Lambda serves (alias reads, reconciles, moves), by operation',
    labelNames: ['operation'] as const,
    registers: [registry],
  })
  const evaluations = new Counter({
    name: 'modelpin_evaluations_total',
    help: 'evaluations this process ran to their end, by outcome (succeeded or failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  const rolloutsEnded = new Counter({
    name: 'modelpin_rollouts_finished_total',
    help: 'rollouts this process ended (its controller, or a cancel it served), by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  })
  // Read from the database at each scrape, so every replica reports the same figures whoever drives the rollouts.
  new Gauge({ // eslint-disable-line no-new
    name: 'modelpin_rollouts',
    help: 'rollouts in the registry by status (running, succeeded, aborted, inconclusive, cancelled, failed)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect () {
      if (!fastify.hasDecorator('registry')) return
      const { byStatus } = await fastify.registry.rolloutGauges()
      this.reset()
      for (const status of ROLLOUT_STATUSES) this.set({ status }, byStatus.find((row) => row.status === status)?.count ?? 0)
    },
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'modelpin_canary_weight',
    help: 'share of an alias\'s traffic its canary receives (0 without a canary), as the registry records it',
    labelNames: ['model', 'alias'] as const,
    registers: [registry],
    async collect () {
      if (!fastify.hasDecorator('registry')) return
      const { canaryWeights } = await fastify.registry.rolloutGauges()
      this.reset()
      for (const { model, alias, weight } of canaryWeights) this.set({ model, alias }, weight)
    },
  })
  const moves: RegistryObserver = {
    rolloutFinished: (outcome) => { rolloutsEnded.inc({ outcome }) },
    evaluationFinished: (outcome) => { evaluations.inc({ outcome }) },
    aliasDrift: (model, alias, drifted) => { drift.set({ model, alias }, drifted ? 1 : 0) },
    reconcileAdoption: () => { adoptions.inc() },
    lockTakeover: () => { takeovers.inc() },
    lambdaCall: (operation) => { lambdaCalls.inc({ operation }) },
  }

  fastify.decorate('metrics', { registry, moves })
  fastify.decorateReply('errorCode', null)

  fastify.addHook('onResponse', async (request, reply) => {
    // the pattern (`/v1/models/:model`), never the raw URL, so the label set stays bounded
    const labels = { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: String(reply.statusCode) }
    requests.inc(labels)
    latency.observe(labels, reply.elapsedTime / 1000)
    const action = request.routeOptions.config.aliasAction
    if (action !== undefined) {
      promotions.inc({ action, outcome: reply.statusCode < 400 ? 'succeeded' : reply.errorCode ?? 'internal' })
    }
  })
}, { name: 'metrics' })
