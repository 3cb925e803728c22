import type { Kysely } from 'kysely'
import { pino, type Logger } from 'pino'
import { AliasLocks } from './alias-locks.js'
import type { ArtifactStore } from './artifact-store.js'
import type { RegistrySchema } from './db.js'
import type { Deployer } from './deployer.js'
import type { EvaluationSettings } from './evaluation-runner.js'
import { LiveCache, type LambdaReadOperation } from './live-cache.js'
import { DEFAULT_METRICS_DELAY_SECONDS, DEFAULT_METRICS_PERIOD_SECONDS, type RolloutSettings, type StepMetrics } from './rollout-metrics.js'

export interface RegistryOptions {
  db: Kysely<RegistrySchema>
  store: ArtifactStore
  /** pushes the deploy alias of models with a `functionName` to Lambda; without it those moves are refused */
  deployer?: Deployer | undefined
  logger?: Logger | undefined
  /** how long an alias lock lives unrenewed (its holder renews it every third of this) before it can be taken over */
  lockTtlMs?: number | undefined
  /** how often the process reconciles (for the Retry-After of an unknown outcome); default 60 s */
  reconcileIntervalMs?: number | undefined
  /** how long one read of a Lambda alias serves every reader of this process (default 2000 ms) */
  liveCacheMs?: number | undefined
  /** told what reconcile finds and does (the API counts it in /metrics) */
  observer?: RegistryObserver | undefined
  /**
   * True when this process is the only one that moves aliases in this database (SQLite; PostgreSQL is for several
   * replicas): start-up then frees every lock, since only a process that stopped mid-move can have left one.
   */
  soleProcess?: boolean | undefined
  /** how evaluations invoke Lambda (concurrency, per-invocation timeout) */
  evaluation?: EvaluationSettings | undefined
  /** Lambda's per-version metrics, which rollouts judge by; without it rollouts cannot start */
  metrics?: StepMetrics | undefined
  /** the metrics' period and delay in seconds (defaults 60 and 180, CloudWatch's Lambda metrics) */
  metricsPeriodSeconds?: number | undefined
  metricsDelaySeconds?: number | undefined
}

/** What reconcile and lock take-overs report, for metrics. */
export interface RegistryObserver {
  /** after each look at a deploy alias: whether Lambda serves something other than the registry says */
  aliasDrift?: (model: string, alias: string, drifted: boolean) => void
  /** an alias adopted from Lambda with a `reconcile` entry */
  reconcileAdoption?: () => void
  /** a lock taken over from a holder that stopped renewing it */
  lockTakeover?: () => void
  /** one Lambda control-plane call made to read what Lambda serves */
  lambdaCall?: (operation: LambdaReadOperation) => void
  /** an evaluation this process ran ended */
  evaluationFinished?: (outcome: 'succeeded' | 'failed') => void
  /** a rollout driven by this process ended with `status` */
  rolloutFinished?: (status: string) => void
}

/** What every part of the registry works with: passed to each of its functions, so none keeps state of its own. */
export interface RegistryContext {
  readonly db: Kysely<RegistrySchema>
  readonly store: ArtifactStore
  /** undefined: models with a function cannot be moved or predicted with (NotDeployedError) */
  readonly deployer: Deployer | undefined
  readonly logger: Logger
  readonly locks: AliasLocks
  /** this process's reads of what Lambda serves, shared between readers */
  readonly live: LiveCache
  readonly soleProcess: boolean
  readonly observer: RegistryObserver | undefined
  readonly reconcileIntervalMs: number
  readonly rollouts: RolloutSettings
  /** the time every row is stamped with */
  readonly now: () => Date
}

/** The context of a registry built from its options. */
export function createContext (options: RegistryOptions, clock: () => Date = () => new Date()): RegistryContext {
  return {
    db: options.db,
    store: options.store,
    deployer: options.deployer,
    logger: options.logger ?? pino({ enabled: false }),
    locks: new AliasLocks(options.db, { ttlMs: options.lockTtlMs }),
    live: new LiveCache({ ttlMs: options.liveCacheMs, onCall: (operation) => { options.observer?.lambdaCall?.(operation) } }),
    soleProcess: options.soleProcess ?? false,
    observer: options.observer,
    reconcileIntervalMs: options.reconcileIntervalMs ?? 60_000,
    rollouts: {
      metrics: options.metrics,
      periodSeconds: options.metricsPeriodSeconds ?? DEFAULT_METRICS_PERIOD_SECONDS,
      delaySeconds: options.metricsDelaySeconds ?? DEFAULT_METRICS_DELAY_SECONDS,
    },
    now: clock,
  }
}

/** The current time as the registry writes it (ISO-8601 text, as every timestamp column holds). */
export function timestamp (ctx: RegistryContext): string {
  return ctx.now().toISOString()
}
