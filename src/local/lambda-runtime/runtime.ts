import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { createLogger } from '../../logging.js'
import { EnvironmentPool, type PoolEvents, type VersionStats } from './environment-pool.js'
import type { FunctionErrorPayload } from './environment.js'
import { LambdaApiError } from './errors.js'
import type { InvokeResult } from './api-backend.js'
import { FunctionCatalog } from './function-catalog.js'
import { LATEST, parseFunctionName, type InvocationTarget, type LocalFunctionConfig } from './function-model.js'
import { createCloudWatchServer } from './cloudwatch-api.js'
import { InvocationMetrics } from './invocation-metrics.js'
import { createRequestListener, s3EventsPath } from './http-api.js'
import { randomRouter, seededRouter } from './routing.js'
import { loadRuntimeState, restoreFunction, saveRuntimeState } from './state-file.js'

/** How long an update stays `InProgress` unless told otherwise: a second, the short end of what AWS takes. */
export const DEFAULT_UPDATE_DELAY_MS = 1000

export interface LambdaRuntimeOptions {
  /** default 127.0.0.1 */
  host?: string
  /** default 9001; 0 picks a free port (tests) */
  port?: number
  functions: LocalFunctionConfig[]
  logger?: Logger
  /** default us-east-1 */
  region?: string
  /** selects the seeded, exact weighted-alias router (see routing.ts); random routing without it */
  seed?: number
  /** how long an idle execution environment lives (default 10 minutes) */
  idleTimeoutMs?: number
  /** idle environments one function keeps at most; the longest idle beyond it is reclaimed (default 10) */
  maxIdleEnvironments?: number
  /** limit of an environment's init phase, the bundle import (default 10 s, Lambda's limit) */
  initTimeoutMs?: number
  /** how long `LastUpdateStatus` stays `InProgress` after an update (default 1 s; AWS takes one to a few seconds) */
  updateDelayMs?: number
  /** delays before the two retries of a failed `Event` invocation (default 1 s and 2 s; Lambda waits minutes) */
  asyncRetryDelaysMs?: readonly [number, number]
  /** the execution role's credentials, given to every environment as AWS_ACCESS_KEY_ID etc. */
  credentials?: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }
  /**
   * A JSON file that keeps the functions' `$LATEST`, versions and aliases across restarts (loaded at start, replaced
   * atomically on every change); without it everything is kept in memory only (tests).
   */
  statePath?: string
  /**
   * Serves CloudWatch's GetMetricData for the `AWS/Lambda` metrics of the invocations it ran, on this port (0 picks
   * a free one) at `cloudwatchUrl`; without it there is no CloudWatch endpoint
   */
  cloudwatchPort?: number
}

export interface RuntimeStats {
  versions: VersionStats[]
  /** `Event` invocations queued or running (retries included) */
  asyncInFlight: number
}

/** One invocation as it ended; emitted as `invocation`. */
export interface InvocationRecord {
  functionName: string
  version: string
  requestId: string
  environmentId: string
  invocationType: 'RequestResponse' | 'Event'
  coldStart: boolean
  durationMs: number
  initDurationMs: number | undefined
  /** errorType of the function error, if it failed */
  errorType: string | undefined
  /** the qualifier the caller named (an alias or a version number); undefined when it named none */
  qualifier: string | undefined
}

export interface RuntimeEvents extends PoolEvents {
  invocation: [InvocationRecord]
  'async-attempt': [{ requestId: string, functionName: string, qualifier: string | undefined, attempt: number, errorType: string | undefined }]
  'async-done': [{ requestId: string, functionName: string, qualifier: string | undefined, attempts: number, outcome: 'succeeded' | 'failed' | 'dropped' }]
}

// Lambda's limit for a synchronous invocation's response: 6 MB.
const RESPONSE_LIMIT = 6 * 1024 * 1024
// Lambda retries an asynchronous invocation twice after a function error.
const ASYNC_ATTEMPTS = 3

export class LambdaRuntime extends EventEmitter<RuntimeEvents> {
  /** `http://host:port` of the Lambda API */
  url = ''
  /** `http://host:port` of the CloudWatch subset (GetMetricData), when `cloudwatchPort` was given; else '' */
  cloudwatchUrl = ''
  /** Lambda's metrics of the invocations this runtime ran, as CloudWatch would hold them */
  readonly metrics = new InvocationMetrics()
  private readonly cloudwatch: Server | undefined
  readonly region: string
  /** where the control plane came from: the state file (`restored`), none there yet (`new`), or no state file given */
  readonly controlPlane: 'restored' | 'new' | 'memory'
  private readonly logger: Logger
  private readonly catalog: FunctionCatalog
  private readonly pool: EnvironmentPool
  private readonly server: Server
  private readonly asyncInFlight = new Set<Promise<void>>()
  private readonly closing = new AbortController()
  private readonly retryDelaysMs: readonly [number, number]

  constructor (options: LambdaRuntimeOptions) {
    super()
    this.region = options.region ?? 'us-east-1'
    this.logger = options.logger ?? createLogger('lambda-runtime')
    this.retryDelaysMs = options.asyncRetryDelaysMs ?? [1000, 2000]
    this.pool = new EnvironmentPool({
      region: this.region,
      baseEnvironment: credentialVariables(options.credentials),
      idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60_000,
      maxIdleEnvironments: options.maxIdleEnvironments ?? 10,
      initTimeoutMs: options.initTimeoutMs ?? 10_000,
      logger: this.logger,
      onEvent: (event) => {
        if (event.type === 'environment-started') this.emit(event.type, event.detail)
        else this.emit(event.type, event.detail)
      },
    })
    const statePath = options.statePath
    const saved = statePath === undefined ? undefined : loadRuntimeState(statePath)
    this.controlPlane = statePath === undefined ? 'memory' : saved === undefined ? 'new' : 'restored'
    this.catalog = new FunctionCatalog(options.functions, {
      region: this.region,
      updateDelayMs: options.updateDelayMs ?? DEFAULT_UPDATE_DELAY_MS,
      router: options.seed === undefined ? randomRouter() : seededRouter(options.seed),
      onLatestChanged: (name) => this.pool.retireLatest(name, this.catalog.function(name).latest.generation),
      restore: saved && ((declared) => {
        const kept = saved.get(declared.name)
        return kept === undefined ? declared : restoreFunction(declared, kept, randomUUID)
      }),
      onChanged: statePath === undefined ? undefined : () => this.saveState(statePath),
    })
    if (saved !== undefined) {
      const dropped = [...saved.keys()].filter((name) => !options.functions.some((f) => f.name === name))
      if (dropped.length > 0) this.logger.warn({ dropped, statePath }, 'the state file keeps functions the config no longer declares: dropped')
    }
    if (statePath !== undefined) this.saveState(statePath)
    this.server = createServer(createRequestListener({
      catalog: this.catalog,
      logger: this.logger,
      region: this.region,
      invoke: (target, payload, options) => this.invoke(target, payload, { ...options, invocationType: 'RequestResponse' }),
      enqueue: (functionName, qualifier, payload) => this.enqueue(functionName, qualifier, payload),
    }))
    this.cloudwatchPort = options.cloudwatchPort
    this.cloudwatch = options.cloudwatchPort === undefined ? undefined : createCloudWatchServer(this.metrics, this.logger.child({ component: 'cloudwatch' }))
  }

  private readonly cloudwatchPort: number | undefined

  async listen (host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
    const address = this.server.address() as AddressInfo
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
    this.url = `http://${urlHost}:${address.port}`
    const cloudwatch = this.cloudwatch
    if (cloudwatch !== undefined) {
      await new Promise<void>((resolve, reject) => {
        cloudwatch.once('error', reject)
        cloudwatch.listen(this.cloudwatchPort, host, () => {
          cloudwatch.off('error', reject)
          resolve()
        })
      })
      this.cloudwatchUrl = `http://${urlHost}:${(cloudwatch.address() as AddressInfo).port}`
    }
  }

  /** The URL radosgw pushes bucket notifications to (a topic's `push-endpoint`) to invoke `functionName:qualifier`. */
  s3EventsUrl (functionName: string, qualifier: string): string {
    return this.url + s3EventsPath(functionName, qualifier)
  }

  /** Writes the state file; a failure is logged, not thrown: the change stands in memory but a restart loses it. */
  private saveState (path: string): void {
    try {
      saveRuntimeState(path, this.catalog.all())
    } catch (error) {
      this.logger.error({ err: error, statePath: path }, 'could not save the Lambda runtime state: a restart will lose the last change')
    }
  }

  stats (): RuntimeStats {
    return { versions: this.pool.versionStats(), asyncInFlight: this.asyncInFlight.size }
  }

  /** Stops accepting requests, drops queued `Event` invocations, kills every environment and waits for them. */
  async close (): Promise<void> {
    this.closing.abort()
    this.catalog.close()
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    const cloudwatch = this.cloudwatch
    const cloudwatchClosed = cloudwatch === undefined || !cloudwatch.listening ? Promise.resolve() : new Promise<void>((resolve) => cloudwatch.close(() => resolve()))
    cloudwatch?.closeAllConnections()
    await this.pool.close()
    await Promise.all([...this.asyncInFlight])
    await serverClosed
    await cloudwatchClosed
  }

  /** One synchronous invocation of `target` in an idle or new environment (throws 429 when throttled). */
  private async invoke (
    target: InvocationTarget,
    payload: string,
    options: { invocationType: 'RequestResponse' | 'Event', logTail?: boolean, clientContext?: unknown, requestId?: string }
  ): Promise<InvokeResult> {
    const { fn, configuration } = target
    const lease = this.pool.acquire(target)
    const { environment, cold } = lease
    const requestId = options.requestId ?? randomUUID()
    environment.beginRequest(requestId)
    let outcome
    let invokeStarted = performance.now()
    const init = cold ? await environment.start() : { ok: true as const }
    if (init.ok) {
      if (cold) environment.writeLog(`INIT_REPORT Init Duration: ${format(environment.initDurationMs)} ms`, 'info', { initDurationMs: environment.initDurationMs })
      environment.writeLog(`START RequestId: ${requestId} Version: ${configuration.version}`)
      invokeStarted = performance.now()
      outcome = await environment.invoke({
        requestId,
        payload,
        invokedFunctionArn: target.invokedArn,
        clientContext: options.clientContext,
      })
    } else {
      environment.writeLog(`INIT_REPORT Init Duration: ${format(performance.now() - invokeStarted)} ms Status: error Error Type: ${init.error.errorType}`, 'error')
      outcome = { status: 'error' as const, cause: 'init' as const, error: init.error, maxRssKb: undefined }
      await environment.stop('init-error')
    }
    const durationMs = performance.now() - invokeStarted
    let body: string
    let error: FunctionErrorPayload | undefined
    if (outcome.status === 'success' && Buffer.byteLength(outcome.payload) <= RESPONSE_LIMIT) {
      body = outcome.payload
    } else {
      error = outcome.status === 'error'
        ? outcome.error
        : { errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size exceeded maximum allowed payload size (${RESPONSE_LIMIT} bytes).` }
      body = JSON.stringify(error)
      if (outcome.status === 'error' && outcome.cause === 'handler') {
        environment.writeLog(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${body}`, 'error', { errorType: error.errorType })
      }
    }
    const maxMemory = outcome.maxRssKb === undefined ? '' : `\tMax Memory Used: ${Math.ceil(outcome.maxRssKb / 1024)} MB`
    const initPart = cold && environment.initDurationMs !== undefined ? `\tInit Duration: ${format(environment.initDurationMs)} ms` : ''
    const status = outcome.status === 'error' && outcome.cause !== 'handler' ? `\tStatus: ${outcome.cause === 'timeout' ? 'timeout' : 'error'}` : ''
    environment.writeLog(`END RequestId: ${requestId}`)
    environment.writeLog(
      `REPORT RequestId: ${requestId}\tDuration: ${format(durationMs)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${configuration.memoryMb} MB${maxMemory}${initPart}${status}`,
      'info',
      { durationMs, initDurationMs: cold ? environment.initDurationMs : undefined, coldStart: cold, errorType: error?.errorType }
    )
    const logResult = options.logTail === true ? environment.logTail() : undefined
    this.pool.release(environment, configuration.version === LATEST ? fn.latest.generation : configuration.generation)
    const qualifier = parseFunctionName(target.invokedArn).qualifier
    this.metrics.record({ functionName: fn.name, qualifier, executedVersion: configuration.version, endedAtMs: Date.now(), durationMs, error: error !== undefined })
    this.emit('invocation', {
      qualifier,
      functionName: fn.name,
      version: configuration.version,
      requestId,
      environmentId: environment.id,
      invocationType: options.invocationType,
      coldStart: cold,
      durationMs,
      initDurationMs: cold ? environment.initDurationMs : undefined,
      errorType: error?.errorType,
    })
    return { requestId, executedVersion: configuration.version, functionError: error === undefined ? undefined : 'Unhandled', payload: body, logResult }
  }

  /**
   * Queues an `Event` invocation and returns its request id at once. It runs in the background: a throttled
   * attempt waits for capacity, a function error is retried twice (same request id, as Lambda does), and the
   * outcome is logged and emitted as `async-done`.
   */
  private enqueue (functionName: string, qualifier: string | undefined, payload: string): string {
    const requestId = randomUUID()
    const running = this.runEvent(requestId, functionName, qualifier, payload)
      .catch((error: unknown) => this.logger.error({ err: error, requestId, function: functionName }, 'asynchronous invocation crashed'))
      .finally(() => this.asyncInFlight.delete(running))
    this.asyncInFlight.add(running)
    return requestId
  }

  private async runEvent (requestId: string, functionName: string, qualifier: string | undefined, payload: string): Promise<void> {
    const log = this.logger.child({ requestId, function: functionName, qualifier })
    const signal = this.closing.signal
    let attempt = 0
    while (attempt < ASYNC_ATTEMPTS) {
      if (attempt > 0) {
        const delay = this.retryDelaysMs[attempt - 1] ?? 0
        try {
          await sleep(delay, undefined, { signal })
        } catch {
          break
        }
      }
      if (signal.aborted) break
      let result: InvokeResult
      try {
        result = await this.invoke(this.catalog.route(functionName, qualifier), payload, { invocationType: 'Event', requestId })
      } catch (error) {
        if (error instanceof LambdaApiError && error.status === 429) {
          await Promise.race([this.pool.waitForCapacity(), sleep(1000, undefined, { signal }).catch(() => undefined)])
          continue
        }
        if (error instanceof LambdaApiError) {
          log.error({ errorType: error.errorType, message: error.message }, 'asynchronous invocation dropped')
          this.emit('async-done', { requestId, functionName, qualifier, attempts: attempt, outcome: 'dropped' })
          return
        }
        throw error
      }
      attempt++
      const errorType = result.functionError === undefined ? undefined : (JSON.parse(result.payload) as FunctionErrorPayload).errorType
      this.emit('async-attempt', { requestId, functionName, qualifier, attempt, errorType })
      if (errorType === undefined) {
        log.info({ attempt, version: result.executedVersion }, 'asynchronous invocation succeeded')
        this.emit('async-done', { requestId, functionName, qualifier, attempts: attempt, outcome: 'succeeded' })
        return
      }
      log.warn({ attempt, errorType, version: result.executedVersion, error: result.payload }, attempt < ASYNC_ATTEMPTS ? 'asynchronous invocation failed; retrying' : 'asynchronous invocation failed')
      if (attempt === ASYNC_ATTEMPTS) {
        this.emit('async-done', { requestId, functionName, qualifier, attempts: attempt, outcome: 'failed' })
        return
      }
    }
    log.warn({ attempts: attempt }, 'asynchronous invocation dropped: the runtime is closing')
    this.emit('async-done', { requestId, functionName, qualifier, attempts: attempt, outcome: 'dropped' })
  }
}

/** Starts the local Lambda runtime and resolves once it listens. */
export async function startLambdaRuntime (options: LambdaRuntimeOptions): Promise<LambdaRuntime> {
  const runtime = new LambdaRuntime(options)
  try {
    await runtime.listen(options.host ?? '127.0.0.1', options.port ?? 9001)
  } catch (error) {
    await runtime.close()
    throw error
  }
  return runtime
}

function credentialVariables (credentials: LambdaRuntimeOptions['credentials']): Record<string, string> {
  if (credentials === undefined) return {}
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    ...(credentials.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: credentials.sessionToken }),
  }
}

function format (ms: number | undefined): string {
  return (ms ?? 0).toFixed(2)
}
