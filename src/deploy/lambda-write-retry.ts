import { setTimeout as sleep } from 'node:timers/promises'

/**
 * Retrying the Lambda writes that Lambda refused without applying them: `ResourceConflictException` (409: an update
 * of the function is in progress, or another write holds it) and `TooManyRequestsException` (429: the control
 * plane's rate limit). Any other failure is not retried here: a 412 is a fence doing its job, and a call whose effect
 * is unknown must be read back, not repeated.
 *
 * The SDK's standard retry strategy already retries a 429 (within the client's `maxAttempts`), so a refused call
 * counts every attempt the SDK made (`$metadata.attempts`) against the budget, and a retry is made only when even a
 * call that the SDK retries as often as it did before stays within it: `attempts` bounds the HTTP calls in all,
 * whoever retried.
 */

export interface WriteRetryPolicy {
  /** calls in all, first one included */
  attempts: number
  /** the first delay's ceiling; each later one doubles it */
  baseDelayMs: number
  /** no delay is longer than this */
  maxDelayMs: number
}

/** Five calls, 100 ms doubling to at most 3 s: about 1.5 s of waiting in all, where AWS's conflicts last seconds. */
export const DEFAULT_WRITE_RETRY: WriteRetryPolicy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 3_000 }

/** True when Lambda refused the call for now and did not apply it: 409 ResourceConflictException or 429 throttling. */
export function refusedForNow (error: unknown): 'conflict' | 'throttled' | undefined {
  const e = error as { name?: unknown, $metadata?: { httpStatusCode?: unknown } } | null
  if (e === null || typeof e !== 'object') return undefined
  const status = e.$metadata?.httpStatusCode
  if (e.name === 'ResourceConflictException' || status === 409) return 'conflict'
  if (e.name === 'TooManyRequestsException' || status === 429) return 'throttled'
  return undefined
}

/**
 * The delay before retry number `retry` (0 for the first): exponential with "equal jitter" (half fixed, half random,
 * as in AWS's Architecture Blog "Exponential Backoff and Jitter"), so writers that collided spread out while each
 * still waits at least half its ceiling.
 */
export function backoffDelayMs (retry: number, policy: WriteRetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry)
  return Math.round(ceiling / 2 + random() * (ceiling / 2))
}

/**
 * Runs `call`, retrying it while Lambda refuses it for now (see `refusedForNow`) and the policy's attempts last.
 * Before each retry it waits the backoff delay, then for `beforeRetry` when given (e.g. for the function's update in
 * progress to finish), whose own failure ends the retries. The last refusal is rethrown as it came.
 */
export async function retryRefusedWrite<T> (
  call: () => Promise<T>,
  options: {
    policy: WriteRetryPolicy
    /** false when a 409 is a final answer for this call (CreateAlias: the alias exists) */
    retryConflicts?: boolean | undefined
    beforeRetry?: ((refusal: 'conflict' | 'throttled', error: unknown) => Promise<void>) | undefined
    onRetry?: ((refusal: 'conflict' | 'throttled', attemptsUsed: number) => void) | undefined
  }
): Promise<T> {
  let used = 0
  let mostPerCall = 1
  for (let retry = 0; ; retry++) {
    try {
      return await call()
    } catch (error) {
      const refusal = refusedForNow(error)
      const attempts = sdkAttempts(error)
      used += attempts
      mostPerCall = Math.max(mostPerCall, attempts)
      if (refusal === undefined || (refusal === 'conflict' && options.retryConflicts === false)) throw error
      if (used + mostPerCall > options.policy.attempts) throw error
      options.onRetry?.(refusal, used)
      await sleep(backoffDelayMs(retry, options.policy))
      await options.beforeRetry?.(refusal, error)
    }
  }
}

/** How many HTTP attempts the SDK made for a failed call (its own retries included). */
function sdkAttempts (error: unknown): number {
  const attempts = (error as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts
  return typeof attempts === 'number' && attempts >= 1 ? attempts : 1
}
