/** Failed authentications are counted within this window (the contract's "within 60 s"). */
export const AUTH_FAILURE_WINDOW_MS = 60_000
/**
 * Addresses tracked at once. A client that rotates addresses could otherwise grow the map without end; past this,
 * the address whose last failure is oldest is forgotten (a map keeps insertion order, and a failure re-inserts).
 */
const MAX_ADDRESSES = 10_000

/**
 * Failed authentications per client address, in a sliding window of 60 s, in this process's memory (the contract
 * asks for a limit per process: replicas do not share it). Pure bookkeeping with the time passed in, so it is
 * tested without waiting.
 */
export class AuthFailures {
  readonly #limit: number
  readonly #failures = new Map<string, number[]>()

  /** `limit`: failures an address may make within the window; the next ones are limited. */
  constructor (limit: number) {
    this.#limit = limit
  }

  /**
   * Records one failure of `address` at `now` (milliseconds); answers null while the address is within its limit,
   * else the whole seconds until the window has passed the failure that put it over (the Retry-After).
   */
  fail (address: string, now: number): number | null {
    const recent = (this.#failures.get(address) ?? []).filter((at) => at > now - AUTH_FAILURE_WINDOW_MS)
    recent.push(now)
    // only the last limit + 1 failures matter: the oldest of them decides when the address is free again
    if (recent.length > this.#limit + 1) recent.splice(0, recent.length - this.#limit - 1)
    this.#failures.delete(address)
    this.#failures.set(address, recent)
    if (this.#failures.size > MAX_ADDRESSES) {
      const oldest = this.#failures.keys().next().value
      if (oldest !== undefined) this.#failures.delete(oldest)
    }
    if (recent.length <= this.#limit) return null
    const freeAt = recent[0]! + AUTH_FAILURE_WINDOW_MS
    return Math.max(1, Math.ceil((freeAt - now) / 1000))
  }

  /** Addresses tracked (for tests of the bound). */
  get size (): number {
    return this.#failures.size
  }
}
