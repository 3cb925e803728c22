import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { isServedStatistic, LAMBDA_NAMESPACE, SERVED_METRICS, type InvocationMetrics, type MetricQuery } from './invocation-metrics.js'

/**
 * CloudWatch's GetMetricData for Lambda's metrics, as `@aws-sdk/client-cloudwatch` calls it: AWS JSON 1.0
 * (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`, timestamps as epoch seconds), with the
 * query-compatible error header the client reads codes from. Any SigV4 signature is accepted. Anything else the
 * API has is answered `UnknownOperationException`; a query outside the subset (math expressions, other namespaces,
 * metrics or statistics) `InvalidParameterValue`, so a caller never mistakes the subset for CloudWatch.
 */

const TARGET_PREFIX = 'GraniteServiceVersion20100801.'
const BODY_LIMIT = 1024 * 1024
/** GetMetricData's own limit on queries per call (AWS API reference). */
const MAX_QUERIES = 500

export function createCloudWatchServer (metrics: InvocationMetrics, logger: Logger): Server {
  return createServer((request, response) => {
    handle(metrics, request)
      .catch((error: unknown) => {
        if (error instanceof CloudWatchError) return error.reply()
        logger.error({ err: error }, 'CloudWatch API request failed')
        return new CloudWatchError(500, 'InternalServiceError', 'InternalServiceFault', 'Receiver', 'the local CloudWatch subset failed; see its log').reply()
      })
      .then((reply) => { send(response, reply) })
      .catch((error: unknown) => { logger.error({ err: error }, 'failed to answer a CloudWatch API request') })
  })
}

interface Reply { status: number, body: unknown, headers?: Record<string, string> }

class CloudWatchError extends Error {
  constructor (readonly status: number, readonly type: string, readonly queryCode: string, readonly fault: 'Sender' | 'Receiver', message: string) {
    super(message)
  }

  reply (): Reply {
    return {
      status: this.status,
      body: { __type: `com.amazonaws.cloudwatch#${this.type}`, message: this.message },
      headers: { 'x-amzn-query-error': `${this.queryCode};${this.fault}` },
    }
  }
}

function invalid (message: string): CloudWatchError {
  return new CloudWatchError(400, 'InvalidParameterValueException', 'InvalidParameterValue', 'Sender', message)
}

async function handle (metrics: InvocationMetrics, request: IncomingMessage): Promise<Reply> {
  const target = String(request.headers['x-amz-target'] ?? '')
  if (request.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
    throw new CloudWatchError(400, 'UnknownOperationException', 'UnknownOperationException', 'Sender', `unknown operation ${target === '' ? `${request.method ?? ''} ${request.url ?? ''}` : target}`)
  }
  const operation = target.slice(TARGET_PREFIX.length)
  if (operation !== 'GetMetricData') {
    throw new CloudWatchError(400, 'UnknownOperationException', 'UnknownOperationException', 'Sender', `the local CloudWatch serves GetMetricData only, not ${operation}`)
  }
  const body = await readJson(request)
  const startSec = epochSeconds(body.StartTime, 'StartTime')
  const endSec = epochSeconds(body.EndTime, 'EndTime')
  if (endSec <= startSec) throw invalid('The parameter StartTime must be less than the parameter EndTime.')
  const queries = body.MetricDataQueries
  if (!Array.isArray(queries) || queries.length === 0 || queries.length > MAX_QUERIES) {
    throw invalid(`MetricDataQueries must hold 1 to ${MAX_QUERIES} queries`)
  }
  const ascending = body.ScanBy === 'TimestampAscending'
  const results = queries.map((raw) => metricQuery(raw)).filter((q) => q.returnData)
    .map((q) => metrics.answer(q.query, startSec, endSec, ascending))
  return { status: 200, body: { MetricDataResults: results, Messages: [] } }
}

function metricQuery (raw: unknown): { query: MetricQuery, returnData: boolean } {
  const q = (raw ?? {}) as Record<string, any>
  if (typeof q.Id !== 'string' || !/^[a-z][A-Za-z0-9_]{0,254}$/.test(q.Id)) throw invalid('each query needs an Id: a lowercase letter, then letters, digits and _')
  if (q.Expression !== undefined) throw invalid('the local CloudWatch serves MetricStat queries only, no Expression')
  const stat = q.MetricStat as Record<string, any> | undefined
  const metric = stat?.Metric as Record<string, any> | undefined
  if (stat === undefined || metric === undefined) throw invalid(`query ${q.Id as string} needs a MetricStat`)
  if (metric.Namespace !== LAMBDA_NAMESPACE || !(SERVED_METRICS as readonly string[]).includes(metric.MetricName)) {
    throw invalid(`the local CloudWatch serves ${LAMBDA_NAMESPACE} ${SERVED_METRICS.join(', ')} only`)
  }
  if (!Number.isInteger(stat.Period) || stat.Period < 1) throw invalid('Period must be a positive integer of seconds')
  if (typeof stat.Stat !== 'string' || !isServedStatistic(stat.Stat)) throw invalid(`unsupported statistic ${String(stat.Stat)}`)
  const dimensions: Record<string, string> = {}
  for (const d of (metric.Dimensions ?? []) as Array<Record<string, unknown>>) {
    if (typeof d.Name !== 'string' || typeof d.Value !== 'string') throw invalid('each dimension needs a Name and a Value')
    dimensions[d.Name] = d.Value
  }
  return {
    query: { id: q.Id, label: typeof q.Label === 'string' ? q.Label : undefined, namespace: metric.Namespace, metricName: metric.MetricName, dimensions, period: stat.Period, stat: stat.Stat },
    returnData: q.ReturnData !== false,
  }
}

function epochSeconds (value: unknown, field: string): number {
  // AWS JSON 1.0 sends timestamps as epoch seconds; a string form is accepted too
  const seconds = typeof value === 'number' ? value : typeof value === 'string' ? Date.parse(value) / 1000 : NaN
  if (!Number.isFinite(seconds)) throw invalid(`${field} must be a timestamp`)
  return seconds
}

async function readJson (request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size > BODY_LIMIT) throw invalid('the request body is too large')
    chunks.push(chunk as Buffer)
  }
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error('not an object')
    return body as Record<string, unknown>
  } catch {
    throw new CloudWatchError(400, 'SerializationException', 'SerializationException', 'Sender', 'the body is not a JSON object')
  }
}

function send (response: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.body)
  response.writeHead(reply.status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': crypto.randomUUID(),
    ...reply.headers,
  })
  response.end(text)
}
