import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { getPriority, setPriority } from 'node:os'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Level, Logger } from 'pino'
import { logGroupName, type VersionConfiguration } from './function-model.js'

/**
 * One execution environment: a Node.js child process running environment-shim.mjs, which imports the function's
 * bundle once and then runs one invocation at a time. The parent owns the clock: it enforces the function's
 * timeout and kills the child when it runs over, as Lambda does.
 */

/** A function error as Lambda's Node.js runtime reports it in the invocation response. */
export interface FunctionErrorPayload { errorType: string, errorMessage: string, trace?: string[] }

export type InvocationOutcome =
  | { status: 'success', payload: string, maxRssKb: number | undefined }
  | {
    status: 'error'
    error: FunctionErrorPayload
    /** handler: thrown by the handler (the environment lives on); the others end the environment */
    cause: 'handler' | 'init' | 'timeout' | 'exit'
    maxRssKb: number | undefined
  }

/** reclaimed: stopped while idle because its function kept more idle environments than the runtime allows */
export type StopReason = 'idle' | 'reclaimed' | 'timeout' | 'exit' | 'init-error' | 'retired' | 'close'

export interface EnvironmentSpec {
  functionName: string
  functionArn: string
  region: string
  configuration: VersionConfiguration
  /** variables every environment gets besides its configuration (the execution role's credentials) */
  baseEnvironment: Record<string, string>
  initTimeoutMs: number
  logger: Logger
  onStopped: (environment: ExecutionEnvironment, reason: StopReason) => void
}

export interface InvocationRequest {
  requestId: string
  payload: string
  invokedFunctionArn: string
  clientContext?: unknown
}

const SHIM_PATH = fileURLToPath(new URL('./environment-shim.mjs', import.meta.url))
const NODE_MAJOR = process.versions.node.split('.')[0] ?? '20'
// Lambda returns the last 4 KB of the invocation's log with `X-Amz-Log-Type: Tail`.
const LOG_TAIL_BYTES = 4096
const PINO_LEVELS: Record<number, Level> = {
  10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal',
}

type ChildMessage =
  | { type: 'ready' }
  | { type: 'init-error', error: FunctionErrorPayload }
  | { type: 'result', requestId: string, payload: string, maxRssKb?: number }
  | { type: 'error', requestId: string, error: FunctionErrorPayload, maxRssKb?: number }
  | { type: 'fatal', requestId?: string, error: FunctionErrorPayload }

/**
 * The CPU priority (nice) of an environment's process during its init phase. On AWS every execution environment is a
 * machine of its own, so one environment's init never takes the CPU from another's invocations; here they share the
 * cores. A new version's first init (a promotion's warm-up: the model's download, an ONNX Runtime session optimised
 * from the weights, the derived graph's save and upload, about 0.5 s of CPU) then slowed the invocations that the
 * environment serving `live` answered meanwhile. The init runs at nice 10, and its threads go back to 0 once it ends
 * (threads that chose a priority of their own keep it). Restoring a priority takes root (or CAP_SYS_NICE): without
 * it the environment stays at nice 10, as every other environment of this runtime does.
 */
const INIT_NICE = 10

/** Sets every thread of `pid` that is at `from` to `to` (Linux addresses each thread by its id); best effort. */
function renice (pid: number, from: number | undefined, to: number): void {
  try {
    const threads = process.platform === 'linux' ? readdirSync(`/proc/${pid}/task`).map(Number) : [pid]
    for (const tid of threads) {
      try {
        if (from === undefined || getPriority(tid) === from) setPriority(tid, to)
      } catch {
        // the thread ended, or no privilege to raise a priority: it keeps the one it has
      }
    }
  } catch {
    // the process is gone
  }
}

interface PendingInvocation {
  requestId: string
  resolve: (outcome: InvocationOutcome) => void
  timer: NodeJS.Timeout
  fatal?: FunctionErrorPayload
}

export class ExecutionEnvironment {
  /** random hex, as in the environment's log stream name */
  readonly id = randomBytes(16).toString('hex')
  readonly functionName: string
  readonly version: string
  readonly generation: number
  readonly startedAt = performance.now()
  state: 'starting' | 'idle' | 'busy' | 'stopped' = 'starting'
  initDurationMs: number | undefined
  idleTimer: NodeJS.Timeout | undefined
  /** when it last went idle (performance.now()), to reclaim the longest idle first */
  idleSince = 0
  private readonly child: ChildProcess
  private readonly logger: Logger
  private readonly exited: Promise<void>
  private init: { resolve: (outcome: { ok: true } | { ok: false, error: FunctionErrorPayload }) => void, timer: NodeJS.Timeout } | undefined
  private pending: PendingInvocation | undefined
  /** the request whose log lines these are: the current one, or the last one while idle (late lines) */
  private logRequestId: string | undefined
  private tail: string[] = []
  private stopReason: StopReason | undefined

  constructor (private readonly spec: EnvironmentSpec) {
    const { configuration } = spec
    this.functionName = spec.functionName
    this.version = configuration.version
    this.generation = configuration.generation
    this.logger = spec.logger.child({ function: spec.functionName, version: configuration.version, environmentId: this.id })
    const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/')
    const logStreamName = `${date}/[${configuration.version}]${this.id}`
    const exportName = configuration.handler.includes('.') ? configuration.handler.slice(configuration.handler.lastIndexOf('.') + 1) : configuration.handler
    this.child = fork(SHIM_PATH, [configuration.bundlePath, exportName], {
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        ...spec.baseEnvironment,
        ...configuration.environment,
        AWS_REGION: spec.region,
        AWS_DEFAULT_REGION: spec.region,
        AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${NODE_MAJOR}.x`,
        AWS_LAMBDA_FUNCTION_NAME: spec.functionName,
        AWS_LAMBDA_FUNCTION_VERSION: configuration.version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(configuration.memoryMb),
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: logGroupName(spec.functionName),
        AWS_LAMBDA_LOG_STREAM_NAME: logStreamName,
        LAMBDA_TASK_ROOT: dirname(configuration.bundlePath),
        LAMBDA_RUNTIME_DIR: dirname(SHIM_PATH),
        _HANDLER: configuration.handler,
      },
    })
    // Threads the process starts inherit it (see INIT_NICE).
    if (this.child.pid !== undefined) renice(this.child.pid, undefined, INIT_NICE)
    this.child.on('message', (message: ChildMessage) => this.onMessage(message))
    this.child.on('error', (error) => this.logger.error({ err: error }, 'execution environment process error'))
    this.exited = new Promise((resolve) => this.child.once('close', (code, signal) => {
      this.onClose(code, signal)
      resolve()
    }))
    for (const [stream, level] of [[this.child.stdout, 'info'], [this.child.stderr, 'warn']] as const) {
      if (stream !== null) createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => this.logLine(line, level))
    }
  }

  /** The init phase: resolves when the bundle is imported and the handler found, or with the init error. */
  start (): Promise<{ ok: true } | { ok: false, error: FunctionErrorPayload }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const seconds = (this.spec.initTimeoutMs / 1000).toFixed(2)
        this.finishInit({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Error: Init phase timed out after ${seconds} seconds` } })
        this.stop('init-error')
      }, this.spec.initTimeoutMs)
      this.init = { resolve, timer }
    })
  }

  /** Runs one invocation; the environment must be started and not busy with another. */
  invoke (request: InvocationRequest): Promise<InvocationOutcome> {
    const { timeoutSeconds } = this.spec.configuration
    this.state = 'busy'
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.writeLog(`${new Date().toISOString()} ${request.requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`, 'error')
        this.settle({
          status: 'error',
          cause: 'timeout',
          maxRssKb: undefined,
          error: { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${request.requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds` },
        })
        this.stop('timeout')
      }, timeoutSeconds * 1000)
      this.pending = { requestId: request.requestId, resolve, timer }
      this.child.send({
        type: 'invoke',
        requestId: request.requestId,
        payload: request.payload,
        deadline: Date.now() + timeoutSeconds * 1000,
        invokedFunctionArn: request.invokedFunctionArn,
        clientContext: request.clientContext,
      })
    })
  }

  /** Starts the log of a new request: later lines (and late lines while idle) carry its id. */
  beginRequest (requestId: string): void {
    this.logRequestId = requestId
    this.tail = []
  }

  /** Kills the process (if alive); resolves once it is gone. */
  stop (reason: StopReason): Promise<void> {
    if (this.stopReason === undefined) {
      this.stopReason = reason
      clearTimeout(this.idleTimer)
      if (this.state !== 'stopped') {
        this.state = 'stopped'
        this.spec.onStopped(this, reason)
      }
      this.child.kill('SIGKILL')
    }
    return this.exited
  }

  /** A line for the log of the current invocation, through pino, kept for `X-Amz-Log-Result`. */
  writeLog (line: string, level: Level = 'info', fields: Record<string, unknown> = {}): void {
    this.tail.push(line)
    this.logger[level]({ requestId: this.logRequestId, ...fields }, line)
  }

  /** The last 4 KB of the current invocation's log, base64, as `X-Amz-Log-Result` carries it. */
  logTail (): string {
    const text = Buffer.from(this.tail.join('\n') + '\n')
    return text.subarray(Math.max(0, text.length - LOG_TAIL_BYTES)).toString('base64')
  }

  private onMessage (message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        this.initDurationMs = performance.now() - this.startedAt
        this.finishInit({ ok: true })
        return
      case 'init-error':
        this.finishInit({ ok: false, error: message.error })
        return
      case 'result':
        this.settle({ status: 'success', payload: message.payload, maxRssKb: message.maxRssKb })
        return
      case 'error':
        this.settle({ status: 'error', cause: 'handler', error: message.error, maxRssKb: message.maxRssKb })
        return
      case 'fatal':
        // the process exits right after; the invocation is answered when it is gone
        if (this.pending !== undefined) this.pending.fatal = message.error
        this.logger.error({ requestId: this.logRequestId, error: message.error }, 'uncaught error in the execution environment')
    }
  }

  private onClose (code: number | null, signal: NodeJS.Signals | null): void {
    const status = signal !== null ? `signal: ${signal === 'SIGKILL' ? 'killed' : signal}` : `exit status ${code ?? 0}`
    const reason = code === 0 && signal === null ? 'Runtime exited without providing a reason' : `Runtime exited with error: ${status}`
    if (this.init !== undefined) {
      this.finishInit({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: `Error: ${reason}` } })
    }
    if (this.pending !== undefined) {
      const { requestId, fatal } = this.pending
      this.settle({
        status: 'error',
        cause: 'exit',
        maxRssKb: undefined,
        error: fatal ?? { errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${requestId} Error: ${reason}` },
      })
    }
    if (this.state !== 'stopped') {
      this.logger.warn({ code, signal }, 'execution environment exited')
      this.state = 'stopped'
      this.stopReason = 'exit'
      clearTimeout(this.idleTimer)
      this.spec.onStopped(this, 'exit')
    }
  }

  private finishInit (outcome: { ok: true } | { ok: false, error: FunctionErrorPayload }): void {
    const init = this.init
    if (init === undefined) return
    this.init = undefined
    clearTimeout(init.timer)
    if (outcome.ok && this.child.pid !== undefined) renice(this.child.pid, INIT_NICE, 0)
    init.resolve(outcome)
  }

  private settle (outcome: InvocationOutcome): void {
    const pending = this.pending
    if (pending === undefined) return
    this.pending = undefined
    clearTimeout(pending.timer)
    pending.resolve(outcome)
  }

  private logLine (line: string, level: Level): void {
    if (line.trim() === '') return
    if (line.startsWith('{')) {
      try {
        const record = JSON.parse(line) as Record<string, unknown>
        if (record !== null && typeof record === 'object') {
          // a line of the handler's own pino logger: kept as an object, at its own level
          const { level: lineLevel, time: _time, pid: _pid, hostname: _hostname, msg, name, ...fields } = record
          if (name !== undefined) fields.logger = name
          this.writeLog(typeof msg === 'string' ? msg : '', PINO_LEVELS[Number(lineLevel)] ?? level, fields)
          this.tail[this.tail.length - 1] = line
          return
        }
      } catch {
        // not JSON after all: logged as text below
      }
    }
    this.writeLog(line, level)
  }
}
