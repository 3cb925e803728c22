import type { StepFigures } from './model.js'

/** What a rollout reads Lambda's per-version metrics through (one real implementation: CloudWatch GetMetricData). */
export interface StepMetrics {
  /**
   * The candidate's and the stable release's figures over one window, for invocations made through the function's
   * alias (`Resource` = `<function>:<alias>`), per `ExecutedVersion`. Throws when the metrics cannot be read.
   */
  read (query: StepMetricsQuery): Promise<{ candidate: StepFigures, stable: StepFigures }>
}

export interface StepMetricsQuery {
  functionName: string
  functionAlias: string
  candidateVersion: string
  stableVersion: string
  startMs: number
  endMs: number
}

/** How rollouts read metrics: the source, its period, and how long the metrics take to arrive. */
export interface RolloutSettings {
  metrics: StepMetrics | undefined
  /** `MODELPIN_METRICS_PERIOD_SECONDS`: the metrics' resolution; `stepSeconds` is at least this */
  periodSeconds: number
  /** `MODELPIN_METRICS_DELAY_SECONDS`: how long after a window ends its metrics are read */
  delaySeconds: number
}

export const DEFAULT_METRICS_PERIOD_SECONDS = 60
export const DEFAULT_METRICS_DELAY_SECONDS = 180
