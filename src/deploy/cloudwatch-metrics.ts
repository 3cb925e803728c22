import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch'
import type { StepFigures } from '../registry/model.js'
import type { StepMetrics, StepMetricsQuery } from '../registry/registry.js'

/** The CloudWatch client of the API: AWS's, or the local runtime's subset when AWS_ENDPOINT_URL_CLOUDWATCH points at it. */
export function createCloudWatchClient (options: {
  endpoint?: string | undefined
  region: string
  credentials?: { accessKeyId: string, secretAccessKey: string } | undefined
}): CloudWatchClient {
  return new CloudWatchClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    // a verdict that cannot read its metrics extends its step and tries again: fail fast rather than hang
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  })
}

/** Lambda's per-version metrics of invocations through an alias, read with GetMetricData. */
export class CloudWatchStepMetrics implements StepMetrics {
  constructor (private readonly cloudwatch: CloudWatchClient, private readonly periodSeconds: number) {}

  async read (query: StepMetricsQuery): Promise<{ candidate: StepFigures, stable: StepFigures }> {
    const window = metricsWindow(query.startMs, query.endMs, this.periodSeconds)
    const queries = [
      ...sideQueries('c', query, query.candidateVersion, window.period),
      ...sideQueries('s', query, query.stableVersion, window.period),
    ]
    const values = new Map<string, number[]>()
    let nextToken: string | undefined
    do {
      const answer = await this.cloudwatch.send(new GetMetricDataCommand({
        MetricDataQueries: queries,
        StartTime: new Date(window.startMs),
        EndTime: new Date(window.endMs),
        NextToken: nextToken,
      }))
      for (const result of answer.MetricDataResults ?? []) {
        if (result.Id === undefined) continue
        values.set(result.Id, [...(values.get(result.Id) ?? []), ...(result.Values ?? [])])
      }
      nextToken = answer.NextToken
    } while (nextToken !== undefined)
    return { candidate: figuresOf(values, 'c'), stable: figuresOf(values, 's') }
  }
}

/**
 * The window GetMetricData is asked for: start aligned down to the period (CloudWatch aligns it so anyway), and one
 * period as long as the whole window, so that each metric answers one datapoint: Invocations and Errors summed over
 * the window and Duration's p95 over all of it (p95s of shorter periods could not be combined). Any multiple of 60 s
 * is a valid period for Lambda's one-minute metrics.
 */
export function metricsWindow (startMs: number, endMs: number, periodSeconds: number): { startMs: number, endMs: number, period: number } {
  const periodMs = periodSeconds * 1000
  const start = Math.floor(startMs / periodMs) * periodMs
  const periods = Math.max(1, Math.ceil((endMs - start) / periodMs))
  return { startMs: start, endMs: start + periods * periodMs, period: periods * periodSeconds }
}

function sideQueries (prefix: string, query: StepMetricsQuery, version: string, period: number): MetricDataQuery[] {
  const dimensions = [
    { Name: 'FunctionName', Value: query.functionName },
    { Name: 'Resource', Value: `${query.functionName}:${query.functionAlias}` },
    { Name: 'ExecutedVersion', Value: version },
  ]
  const metric = (id: string, name: string, stat: string): MetricDataQuery => ({
    Id: `${prefix}${id}`,
    MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: name, Dimensions: dimensions }, Period: period, Stat: stat },
    ReturnData: true,
  })
  return [metric('invocations', 'Invocations', 'Sum'), metric('errors', 'Errors', 'Sum'), metric('p95', 'Duration', 'p95')]
}

/** One side's figures; CloudWatch answers no datapoint for a period without invocations. */
function figuresOf (values: Map<string, number[]>, prefix: string): StepFigures {
  const sum = (id: string): number => (values.get(`${prefix}${id}`) ?? []).reduce((a, b) => a + b, 0)
  const p95 = values.get(`${prefix}p95`) ?? []
  const invocations = sum('invocations')
  return { invocations, errors: sum('errors'), p95Ms: invocations === 0 || p95.length === 0 ? null : Math.max(...p95) }
}
