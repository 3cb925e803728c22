import type { LoadedModel } from './model-loader.js'
import { verifyDigest } from './model-loader.js'
import type { ModelPin } from '../contract/pin.js'

/** What the handler reports as `cache` in every answer (direct invoke, warm-up, output object). */
export interface CacheStats {
  /** Requests served by a model already in memory. */
  hits: number
  /** Requests that waited for a load: their own, or one already in flight for the same versions. */
  misses: number
  /** Loads started (S3 reads of weights and labels plus a session). Concurrent misses share one. */
  loads: number
  /** Weights and labels bytes of the models held now. */
  bytes: number
}

/** A model borrowed from the cache; `release` when done, so eviction never frees a session that is running. */
export interface ModelLease {
  model: LoadedModel
  /** Whether the model was already in memory. */
  hit: boolean
  release: () => void
}

interface Entry {
  model: LoadedModel
  leases: number
  evicted: boolean
}

interface Flight {
  promise: Promise<Entry>
  waiters: number
}

export interface ModelCacheOptions<R> {
  /** Upper bound on `stats().bytes`; least recently used models are evicted past it. A single larger model is still served. */
  maxBytes: number
  /** Loads a model; `requester` is what the acquire that started the load passed (a request's logger, say). */
  load: (pin: ModelPin, requester: R | undefined) => Promise<LoadedModel>
  /** Called when an evicted model's session is freed. */
  onEvict?: (model: LoadedModel) => void
}

/** The key of a pin: the exact S3 versions of weights and labels (digests are verified, not keyed). */
export function pinKey (pin: ModelPin): string {
  return JSON.stringify([pin.bucket, pin.weightsKey, pin.weightsVersionId, pin.labelsKey, pin.labelsVersionId])
}

/**
 * Loaded models by (bucket, key, VersionId) of weights and labels: kept across warm invocations, least recently
 * used evicted when the bytes exceed `maxBytes`, one load shared by every concurrent request for the same versions.
 */
export class ModelCache<R = undefined> {
  private readonly entries = new Map<string, Entry>()
  private readonly flights = new Map<string, Flight>()
  private readonly counters = { hits: 0, misses: 0, loads: 0, bytes: 0, evictions: 0 }

  constructor (private readonly options: ModelCacheOptions<R>) {}

  /** Borrows the model a pin names, loading it once if it is not in memory. */
  async acquire (pin: ModelPin, requester?: R): Promise<ModelLease> {
    const cached = this.acquireInMemory(pin)
    if (cached !== undefined) return cached
    const key = pinKey(pin)
    this.counters.misses++
    let flight = this.flights.get(key)
    if (flight === undefined) flight = this.startLoad(key, pin, requester)
    flight.waiters++
    // The lease was taken for every waiter when the load finished, before any eviction could see the entry.
    return this.verified(pin, this.lease(await flight.promise, false))
  }

  /**
   * Borrows the model a pin names when it is in memory (a hit), without waiting; undefined otherwise, and then
   * nothing is counted. A warm request takes this path and needs no promise for its model.
   */
  acquireInMemory (pin: ModelPin): ModelLease | undefined {
    const key = pinKey(pin)
    const cached = this.entries.get(key)
    if (cached === undefined) return undefined
    this.counters.hits++
    // Re-inserting moves the entry to the end of the Map's order: the most recently used.
    this.entries.delete(key)
    this.entries.set(key, cached)
    cached.leases++
    return this.verified(pin, this.lease(cached, true))
  }

  /** The lease, once the pin's digests match the model's; otherwise released and a ChecksumMismatchError. */
  private verified (pin: ModelPin, lease: ModelLease): ModelLease {
    try {
      // Versions are immutable, so a digest verified once holds; a pin with another digest is a wrong pin.
      const at = (versionId: string, key: string) => ({ bucket: pin.bucket, key, versionId })
      verifyDigest(at(pin.weightsVersionId, pin.weightsKey), pin.weightsSha256, lease.model.weightsSha256)
      verifyDigest(at(pin.labelsVersionId, pin.labelsKey), pin.labelsSha256, lease.model.labelsSha256)
    } catch (error) {
      lease.release()
      throw error
    }
    return lease
  }

  /**
   * Starts loading a pin's model without a request waiting for it (a function's init phase): counted as a load,
   * neither a hit nor a miss. Resolves when it is in memory; a failure is not kept, so the next acquire loads again
   * and reports it.
   */
  async preload (pin: ModelPin, requester?: R): Promise<void> {
    const key = pinKey(pin)
    if (this.entries.has(key)) return
    const flight = this.flights.get(key) ?? this.startLoad(key, pin, requester)
    await flight.promise
  }

  stats (): CacheStats {
    const { hits, misses, loads, bytes } = this.counters
    return { hits, misses, loads, bytes }
  }

  /** Models evicted so far. */
  get evictions (): number {
    return this.counters.evictions
  }

  /** Pin keys of the models in memory, least recently used first. */
  keys (): string[] {
    return [...this.entries.keys()]
  }

  private startLoad (key: string, pin: ModelPin, requester: R | undefined): Flight {
    this.counters.loads++
    const flight = { waiters: 0 } as Flight
    flight.promise = this.options.load(pin, requester).then((model) => {
      const entry: Entry = { model, leases: flight.waiters, evicted: false }
      this.flights.delete(key)
      this.entries.set(key, entry)
      this.counters.bytes += model.bytes
      this.evict(key)
      return entry
    }, (error: unknown) => {
      this.flights.delete(key)
      throw error
    })
    this.flights.set(key, flight)
    return flight
  }

  private lease (entry: Entry, hit: boolean): ModelLease {
    let released = false
    return {
      model: entry.model,
      hit,
      release: () => {
        if (released) return
        released = true
        entry.leases--
        if (entry.evicted && entry.leases === 0) this.free(entry)
      },
    }
  }

  /** Evicts least recently used entries (never `keep`) until the bytes fit. */
  private evict (keep: string): void {
    for (const [key, entry] of this.entries) {
      if (this.counters.bytes <= this.options.maxBytes) break
      if (key === keep) continue
      this.entries.delete(key)
      this.counters.bytes -= entry.model.bytes
      this.counters.evictions++
      entry.evicted = true
      if (entry.leases === 0) this.free(entry)
    }
  }

  private free (entry: Entry): void {
    this.options.onEvict?.(entry.model)
    entry.model.classifier.release().catch(() => {})
  }
}
