import type { Logger } from 'pino'
import { tooManyRequests } from './errors.js'
import { ExecutionEnvironment, type StopReason } from './environment.js'
import { LATEST, type InvocationTarget } from './function-model.js'

/**
 * The execution environments of every function version. An invocation takes an idle environment of its version
 * (warm) or starts a new one (cold); at most `maxConcurrency` invocations of one function run at once, beyond
 * which the caller is throttled (429) as Lambda does. An environment idle for `idleTimeoutMs` is reaped, and a
 * function keeps at most `maxIdleEnvironments` idle ones: beyond that the longest idle is reclaimed at once, as
 * Lambda reclaims environments at will. Without that cap every promotion of a fresh release (which warms a new
 * version) would leave one more model-sized process behind for the idle timeout, and a run of promotions would
 * exhaust the machine's memory.
 */

/** Counters of one function version, for tests and benchmarks. */
export interface VersionStats {
  functionName: string
  version: string
  environmentsStarted: number
  environmentsAlive: number
  environmentsBusy: number
  invocations: number
  coldStarts: number
}

export interface PoolEvents {
  'environment-started': [{ functionName: string, version: string, environmentId: string }]
  'environment-stopped': [{ functionName: string, version: string, environmentId: string, reason: StopReason }]
}

export interface PoolOptions {
  region: string
  baseEnvironment: Record<string, string>
  idleTimeoutMs: number
  maxIdleEnvironments: number
  initTimeoutMs: number
  logger: Logger
  onEvent: (event: PoolEvent) => void
}

export type PoolEvent =
  | { type: 'environment-started', detail: PoolEvents['environment-started'][0] }
  | { type: 'environment-stopped', detail: PoolEvents['environment-stopped'][0] }

export interface Lease { environment: ExecutionEnvironment, cold: boolean }

export class EnvironmentPool {
  private readonly environments = new Set<ExecutionEnvironment>()
  private readonly stats = new Map<string, VersionStats>()
  private readonly capacityWaiters = new Set<() => void>()
  private closed = false

  constructor (private readonly options: PoolOptions) {}

  /**
   * An environment for one invocation of `target`, marked busy: an idle one of the same version (and, for
   * `$LATEST`, of the same configuration), or a new one that the caller must start. Throttles with 429.
   */
  acquire (target: InvocationTarget): Lease {
    if (this.closed) throw new Error('the lambda runtime is closed')
    const { fn, configuration } = target
    const busy = [...this.environments].filter((e) => e.functionName === fn.name && e.state !== 'idle').length
    if (busy >= fn.maxConcurrency) throw tooManyRequests('ReservedFunctionConcurrentInvocationLimitExceeded')
    const counters = this.countersOf(fn.name, configuration.version)
    counters.invocations++
    for (const environment of this.environments) {
      if (environment.state === 'idle' && environment.functionName === fn.name &&
        environment.version === configuration.version && environment.generation === configuration.generation) {
        clearTimeout(environment.idleTimer)
        environment.state = 'busy'
        return { environment, cold: false }
      }
    }
    const environment = new ExecutionEnvironment({
      functionName: fn.name,
      functionArn: fn.arn,
      region: this.options.region,
      configuration,
      baseEnvironment: this.options.baseEnvironment,
      initTimeoutMs: this.options.initTimeoutMs,
      logger: this.options.logger,
      onStopped: (stopped, reason) => this.onStopped(stopped, reason),
    })
    this.environments.add(environment)
    counters.environmentsStarted++
    counters.coldStarts++
    this.options.onEvent({ type: 'environment-started', detail: { functionName: fn.name, version: configuration.version, environmentId: environment.id } })
    return { environment, cold: true }
  }

  /** Gives a busy environment back: idle (reaped after the idle timeout), or stopped if its version retired. */
  release (environment: ExecutionEnvironment, currentGeneration: number): void {
    if (environment.state === 'stopped') return
    if (this.closed || environment.generation !== currentGeneration) {
      environment.stop(this.closed ? 'close' : 'retired')
      return
    }
    environment.state = 'idle'
    environment.idleSince = performance.now()
    environment.idleTimer = setTimeout(() => { environment.stop('idle') }, this.options.idleTimeoutMs)
    environment.idleTimer.unref()
    this.reclaimIdleBeyondCap(environment.functionName)
    this.signalCapacity()
  }

  /** Stops the idle environments of `$LATEST` that run an older configuration; busy ones stop when released. */
  retireLatest (functionName: string, currentGeneration: number): void {
    for (const environment of this.environments) {
      if (environment.functionName === functionName && environment.version === LATEST &&
        environment.generation !== currentGeneration && environment.state === 'idle') {
        environment.stop('retired')
      }
    }
  }

  private reclaimIdleBeyondCap (functionName: string): void {
    const idle = [...this.environments]
      .filter((e) => e.functionName === functionName && e.state === 'idle')
      .sort((a, b) => a.idleSince - b.idleSince)
    for (const environment of idle.slice(0, Math.max(0, idle.length - this.options.maxIdleEnvironments))) {
      environment.stop('reclaimed')
    }
  }

  /** Resolves when an invocation slot may have freed up (an environment went idle or stopped). */
  waitForCapacity (): Promise<void> {
    return new Promise((resolve) => this.capacityWaiters.add(resolve))
  }

  versionStats (): VersionStats[] {
    return [...this.stats.values()].map((counters) => {
      const mine = [...this.environments].filter((e) => e.functionName === counters.functionName && e.version === counters.version)
      return {
        ...counters,
        environmentsAlive: mine.length,
        environmentsBusy: mine.filter((e) => e.state === 'busy' || e.state === 'starting').length,
      }
    })
  }

  /** Kills every environment and waits until each process is gone. */
  async close (): Promise<void> {
    this.closed = true
    await Promise.all([...this.environments].map((e) => e.stop('close')))
    this.signalCapacity()
  }

  private onStopped (environment: ExecutionEnvironment, reason: StopReason): void {
    this.environments.delete(environment)
    const level = reason === 'idle' || reason === 'reclaimed' || reason === 'close' || reason === 'retired' ? 'debug' : 'warn'
    this.options.logger[level]({ function: environment.functionName, version: environment.version, environmentId: environment.id, reason }, 'execution environment stopped')
    this.options.onEvent({ type: 'environment-stopped', detail: { functionName: environment.functionName, version: environment.version, environmentId: environment.id, reason } })
    this.signalCapacity()
  }

  private signalCapacity (): void {
    const waiters = [...this.capacityWaiters]
    this.capacityWaiters.clear()
    for (const resolve of waiters) resolve()
  }

  private countersOf (functionName: string, version: string): VersionStats {
    const key = `${functionName}\u0000${version}`
    let counters = this.stats.get(key)
    if (counters === undefined) {
      counters = { functionName, version, environmentsStarted: 0, environmentsAlive: 0, environmentsBusy: 0, invocations: 0, coldStarts: 0 }
      this.stats.set(key, counters)
    }
    return counters
  }
}
