import type { ModelPin } from '../contract/pin.js'
import { DeployStepError, type Deployer, type DeployTarget, type LiveAlias } from './deployer.js'

/** How long a read of a Lambda alias serves other readers (`MODELPIN_LIVE_CACHE_MS`). */
export const DEFAULT_LIVE_CACHE_MS = 2000

/**
 * Published versions whose pins are kept. A version's configuration never changes, so the bound only keeps a
 * long-running process's memory flat; the oldest entry goes first.
 */
const MAX_VERSION_PINS = 1000

/**
 * How long a version's pin is kept. A version never changes, but a function deleted and created again (as a
 * restarted local runtime is) numbers its versions from 1 again: the process that publishes learns it from its own
 * publish (`forgetVersion`), every other one within this time, at the cost of one call per served version.
 */
const VERSION_PIN_TTL_MS = 10 * 60 * 1000

/** The Lambda control-plane calls the registry makes to read what Lambda serves. */
export type LambdaReadOperation = 'GetAlias' | 'GetFunctionConfiguration'

interface AliasEntry {
  live: Promise<LiveAlias>
  /** when the read started (monotonic ms): it serves readers until `ttlMs` after that */
  startedAt: number
  /** the registry's alias revision the read was started against: a reader that saw a newer one reads again */
  revision: number
  /** the alias's RevisionId once the read answered (null while in flight or when it failed) */
  revisionId: string | null
  /** true until the read answered or failed: a read in flight is shared whatever its age */
  inFlight: boolean
}

/**
 * What Lambda's aliases serve, as this process last read it. AWS throttles its control plane at a low per-account
 * rate, so a dashboard polling alias views must not turn each view into Lambda calls that starve promotions:
 * readers share one read of an alias (also while it is in flight) for `ttlMs`, and a published version's pin is
 * read once. A reader that saw a newer registry revision than the cached read was taken against reads again (a move
 * committed since). Moves do not use cached reads: `refresh`, `aliasRevision` and `fence` always ask Lambda, and
 * what they learn or change replaces what is cached. Every call to Lambda made here is reported to `onCall`.
 */
export class LiveCache {
  readonly #ttlMs: number
  readonly #onCall: (operation: LambdaReadOperation) => void
  readonly #now: () => number
  readonly #aliases = new Map<string, AliasEntry>()
  readonly #pins = new Map<string, { pin: Promise<ModelPin | undefined>, readAt: number }>()

  constructor (options: { ttlMs?: number | undefined, onCall?: ((operation: LambdaReadOperation) => void) | undefined, now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_LIVE_CACHE_MS
    this.#onCall = options.onCall ?? (() => {})
    this.#now = options.now ?? (() => performance.now())
  }

  /**
   * What `target`'s alias serves, from a read started less than the TTL ago (or still in flight) against registry
   * revision `revision` or a newer one; otherwise from a new read, which later readers share.
   */
  async read (deployer: Deployer, target: DeployTarget, revision: number): Promise<LiveAlias> {
    const key = aliasKey(target)
    const cached = this.#aliases.get(key)
    if (cached !== undefined && cached.revision >= revision && (cached.inFlight || this.#now() - cached.startedAt < this.#ttlMs)) {
      return await cached.live
    }
    return await this.#start(deployer, target, revision).live
  }

  /** Reads `target`'s alias from Lambda now, whatever is cached; later readers share this read. */
  async refresh (deployer: Deployer, target: DeployTarget): Promise<LiveAlias> {
    const cached = this.#aliases.get(aliasKey(target))
    return await this.#start(deployer, target, cached?.revision ?? 0).live
  }

  /** The alias's RevisionId read from Lambda now (null: no alias); a cached read of another revision is dropped. */
  async aliasRevision (deployer: Deployer, target: DeployTarget): Promise<string | null> {
    this.#onCall('GetAlias')
    const revision = await deployer.aliasRevision(target)
    const cached = this.#aliases.get(aliasKey(target))
    // a read still in flight may have been taken before or after this one: only a read known to match is kept
    if (cached !== undefined && (cached.revisionId === null || cached.revisionId !== revision)) this.forget(target)
    return revision
  }

  /** Fences the alias (see Deployer.fence), which changes it: the next read asks Lambda. */
  async fence (deployer: Deployer, target: DeployTarget): Promise<void> {
    this.#onCall('GetAlias')
    try {
      await deployer.fence(target)
    } finally {
      this.forget(target)
    }
  }

  /** Drops the pin kept for `version` of `functionName`: a version of that number was just published. */
  forgetVersion (functionName: string, version: string): void {
    this.#pins.delete(`${functionName}\n${version}`)
  }

  /** Drops what is cached for `target`'s alias (it was routed, or may have been): the next read asks Lambda. */
  forget (target: DeployTarget): void {
    this.#aliases.delete(aliasKey(target))
  }

  #start (deployer: Deployer, target: DeployTarget, revision: number): AliasEntry {
    const key = aliasKey(target)
    const entry: AliasEntry = { live: this.#readLive(deployer, target), startedAt: this.#now(), revision, revisionId: null, inFlight: true }
    // every reader awaits `live`; the rejection handler only keeps a failed read nobody awaits from being unhandled
    entry.live.then((live) => {
      entry.revisionId = live.revisionId ?? null
      entry.inFlight = false
    }, () => { entry.inFlight = false })
    this.#aliases.set(key, entry)
    return entry
  }

  async #readLive (deployer: Deployer, target: DeployTarget): Promise<LiveAlias> {
    this.#onCall('GetAlias')
    const alias = await deployer.readAlias(target)
    if (alias === null) throw new DeployStepError('get-alias', `alias ${target.functionAlias} of ${target.functionName} does not exist`)
    const [pin, canaryPin] = await Promise.all([
      this.#versionPin(deployer, target.functionName, alias.functionVersion),
      alias.canary === null ? undefined : this.#versionPin(deployer, target.functionName, alias.canary.functionVersion),
    ])
    return {
      functionVersion: alias.functionVersion,
      pin,
      canary: alias.canary === null ? null : { ...alias.canary, pin: canaryPin },
      revisionId: alias.revisionId,
    }
  }

  /** A published version's pin, read once (concurrent readers share the read); a failed or pinless read is not kept. */
  async #versionPin (deployer: Deployer, functionName: string, version: string): Promise<ModelPin | undefined> {
    const key = `${functionName}\n${version}`
    const cached = this.#pins.get(key)
    if (cached !== undefined && this.#now() - cached.readAt < VERSION_PIN_TTL_MS) return await cached.pin
    this.#onCall('GetFunctionConfiguration')
    const read = { pin: deployer.versionPin(functionName, version), readAt: this.#now() }
    this.#pins.delete(key) // re-inserted last, so the bound drops the oldest read first
    this.#pins.set(key, read)
    if (this.#pins.size > MAX_VERSION_PINS) this.#pins.delete(this.#pins.keys().next().value!)
    try {
      const pin = await read.pin
      if (pin === undefined && this.#pins.get(key) === read) this.#pins.delete(key)
      return pin
    } catch (error) {
      if (this.#pins.get(key) === read) this.#pins.delete(key)
      throw error
    }
  }
}

function aliasKey (target: DeployTarget): string {
  return `${target.functionName}\n${target.functionAlias}`
}
