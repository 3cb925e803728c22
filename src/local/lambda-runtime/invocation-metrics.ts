/**
 * The metrics Lambda publishes to CloudWatch (`AWS/Lambda`: Invocations, Errors, Duration), kept from the
 * invocations the local runtime ran, and answered in GetMetricData's shape. Each invocation counts under the
 * dimension sets Lambda uses: `FunctionName`, `FunctionName` + `Resource` (`<function>:<qualifier>` when invoked
 * with a qualifier), and those with `ExecutedVersion`. Pure bookkeeping: cloudwatch-api.ts is its HTTP face.
 */

/** One invocation as the metrics count it. */
export interface MetricInvocation {
  functionName: string
  /** the qualifier the caller named (an alias or a version); undefined for an unqualified call */
  qualifier: string | undefined
  executedVersion: string
  /** when it ended, epoch ms */
  endedAtMs: number
  durationMs: number
  error: boolean
}

/** One GetMetricData query of the subset served: a metric with a statistic, no math expressions. */
export interface MetricQuery {
  id: string
  label: string | undefined
  namespace: string
  metricName: string
  dimensions: Record<string, string>
  period: number
  stat: string
}

export interface MetricResult {
  Id: string
  Label: string
  /** epoch seconds, the start of each period with data */
  Timestamps: number[]
  Values: number[]
  StatusCode: 'Complete'
}

export const LAMBDA_NAMESPACE = 'AWS/Lambda'
export const SERVED_METRICS = ['Invocations', 'Errors', 'Duration'] as const
/** What a week of busy local use needs at most; the oldest are dropped beyond it. */
const MAX_KEPT = 200_000

export class InvocationMetrics {
  readonly #kept: MetricInvocation[] = []

  record (invocation: MetricInvocation): void {
    this.#kept.push(invocation)
    if (this.#kept.length > MAX_KEPT) this.#kept.splice(0, this.#kept.length - MAX_KEPT)
  }

  /** The datapoints of `query` between `startSec` (inclusive) and `endSec` (exclusive), newest first unless `ascending`. */
  answer (query: MetricQuery, startSec: number, endSec: number, ascending = false): MetricResult {
    const buckets = new Map<number, MetricInvocation[]>()
    for (const invocation of this.#kept) {
      const at = invocation.endedAtMs / 1000
      if (at < startSec || at >= endSec || !matches(query.dimensions, invocation)) continue
      const bucket = startSec + Math.floor((at - startSec) / query.period) * query.period
      const list = buckets.get(bucket) ?? []
      list.push(invocation)
      buckets.set(bucket, list)
    }
    const timestamps = [...buckets.keys()].sort((a, b) => ascending ? a - b : b - a)
    return {
      Id: query.id,
      Label: query.label ?? query.metricName,
      Timestamps: timestamps,
      Values: timestamps.map((t) => statistic(query.metricName, query.stat, buckets.get(t)!)),
      StatusCode: 'Complete',
    }
  }
}

/** True when `invocation` counts under exactly the dimension set `dimensions` names. */
function matches (dimensions: Record<string, string>, invocation: MetricInvocation): boolean {
  for (const [name, value] of Object.entries(dimensions)) {
    switch (name) {
      case 'FunctionName':
        if (value !== invocation.functionName) return false
        break
      case 'Resource':
        if (invocation.qualifier === undefined || value !== `${invocation.functionName}:${invocation.qualifier}`) return false
        break
      case 'ExecutedVersion':
        if (value !== invocation.executedVersion) return false
        break
      default:
        return false
    }
  }
  return true
}

/** The value of one statistic over one period's invocations (which is never empty). */
function statistic (metricName: string, stat: string, invocations: MetricInvocation[]): number {
  const samples = invocations.map((i) => metricName === 'Invocations' ? 1 : metricName === 'Errors' ? (i.error ? 1 : 0) : i.durationMs)
  switch (stat) {
    case 'Sum': return samples.reduce((a, b) => a + b, 0)
    case 'SampleCount': return samples.length
    case 'Average': return samples.reduce((a, b) => a + b, 0) / samples.length
    case 'Minimum': return Math.min(...samples)
    case 'Maximum': return Math.max(...samples)
  }
  const percentile = /^p(\d{1,2}(\.\d+)?)$/.exec(stat)
  if (percentile === null) throw new Error(`unsupported statistic ${stat}`)
  // nearest rank, as CloudWatch's percentiles of raw samples
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.ceil((Number(percentile[1]) / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** True for the statistics the subset serves: Sum, SampleCount, Average, Minimum, Maximum and pNN. */
export function isServedStatistic (stat: string): boolean {
  return ['Sum', 'SampleCount', 'Average', 'Minimum', 'Maximum'].includes(stat) || /^p(\d{1,2}(\.\d+)?)$/.test(stat)
}
