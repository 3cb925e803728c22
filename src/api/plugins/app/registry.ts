import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Deployer } from '../../../registry/deployer.js'
import { Registry, type StepMetrics } from '../../../registry/registry.js'
import { componentLogger } from '../../logging.js'

declare module 'fastify' {
  interface FastifyInstance {
    registry: Registry
  }
}

export interface RegistryPluginOptions {
  /** pushes aliases to Lambda; without one, every model is registry-only */
  deployer?: Deployer | undefined
  /** Lambda's per-version metrics, which rollouts judge by */
  metrics?: StepMetrics | undefined
}

/** How often the rollout controller looks for due steps and renews its leases. */
const ROLLOUT_TICK_MS = 1000

/** The actor recorded for what the API does on its own at start-up. */
export const START_UP_ACTOR = 'modelpin-api'

/**
 * The registry service, over the database and the artifact store. Before the API serves, it reconciles once, then
 * every `reconcileSeconds`: moves whose process stopped renewing their lock are settled and, with a deployer, an
 * alias Lambda moved with no move in flight adopts what Lambda serves.
 */
export default fp<RegistryPluginOptions>(async function registryPlugin (fastify, options) {
  const registry = new Registry({
    db: fastify.database.db,
    store: fastify.artifacts,
    deployer: options.deployer,
    logger: componentLogger(fastify, 'registry'),
    // SQLite serves one API process (any lock it finds at start-up is a leftover); several replicas share PostgreSQL
    soleProcess: fastify.database.dialect === 'sqlite',
    lockTtlMs: fastify.config.lockTtlSeconds * 1000,
    reconcileIntervalMs: fastify.config.reconcileSeconds * 1000,
    liveCacheMs: fastify.config.liveCacheMs,
    observer: fastify.metrics.moves,
    evaluation: { concurrency: fastify.config.evaluationConcurrency, invokeTimeoutMs: fastify.config.evaluationInvokeTimeoutMs },
    metrics: options.metrics,
    metricsPeriodSeconds: fastify.config.metricsPeriodSeconds,
    metricsDelaySeconds: fastify.config.metricsDelaySeconds,
  })
  fastify.decorate('registry', registry)
  try {
    await registry.reconcile(START_UP_ACTOR, { startUp: true })
  } catch (error) {
    // Lambda being down must not keep the API from starting: reads report drift, moves fail with 502 until it is back.
    fastify.log.error({ err: error }, 'start-up reconcile failed; the API serves anyway')
  }
  await warnAboutSharedFunctionAliases(fastify, registry)

  // Evaluations left running by a process that stopped: at start-up (a sole SQLite process takes them whatever their
  // lease says), then each third of the lease TTL, which is how soon a dead holder's lease can be taken over.
  const resume = async (options: { anyHolder?: boolean } = {}): Promise<void> => {
    await registry.resumeEvaluations(options).catch((error: unknown) => { fastify.log.error({ err: error }, 'resuming evaluations failed') })
  }
  await resume({ anyHolder: fastify.database.dialect === 'sqlite' })
  const evaluationTimer = setInterval(() => { resume().catch(() => {}) }, Math.max(1000, Math.floor(fastify.config.lockTtlSeconds * 1000 / 3)))
  evaluationTimer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(evaluationTimer)
    // the leases are given back: another replica (or this one restarted) resumes the evaluations at once
    await registry.stopEvaluations()
  })

  let running: Promise<void> | undefined
  const timer = setInterval(() => {
    if (running !== undefined) return // the previous pass is still at it (a slow Lambda): skip this beat
    running = registry.reconcile(START_UP_ACTOR)
      .catch((error: unknown) => { fastify.log.error({ err: error }, 'periodic reconcile failed') })
      .finally(() => { running = undefined })
  }, fastify.config.reconcileSeconds * 1000)
  timer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await running
  })

  // The rollout controller: every process runs one; the lease in the database makes one of them drive each rollout.
  let driving: Promise<void> | undefined
  const rolloutTimer = setInterval(() => {
    if (driving !== undefined) return
    driving = registry.driveRollouts()
      .catch((error: unknown) => { fastify.log.error({ err: error }, 'the rollout controller failed; it tries again at the next tick') })
      .finally(() => { driving = undefined })
  }, ROLLOUT_TICK_MS)
  rolloutTimer.unref()
  fastify.addHook('onClose', async () => {
    clearInterval(rolloutTimer)
    await driving
    // decisions in flight finish; the leases are given back so another process continues at once
    await registry.stopDrivingRollouts()
  })
}, { name: 'registry', dependencies: ['config', 'metrics', 'database', 's3'] })

/**
 * A registry from before one owner per Lambda alias may have several models on one: they keep their data, and the
 * operator learns at every start which of them the API refuses to move.
 */
async function warnAboutSharedFunctionAliases (fastify: FastifyInstance, registry: Registry): Promise<void> {
  for (const { functionName, functionAlias, owner, models } of await registry.sharedFunctionAliases()) {
    // no owner recorded: the first move takes it for the earliest-registered model
    const mover = owner ?? models[0]
    const refused = models.filter((model) => model !== mover)
    fastify.log.warn({ functionName, functionAlias, owner: mover, models, refused },
      `models ${models.join(', ')} share Lambda alias ${functionAlias} of function ${functionName}: only ${mover} ` +
      `may move; moves of ${refused.join(', ')} are refused until each gets a functionAlias of its own or is made registry-only`)
  }
}
