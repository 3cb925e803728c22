import { createContext } from 'preact'
import { useContext, useEffect, useState, useCallback } from 'preact/hooks'
import type { ConsoleApi } from './api.js'
import { ApiFailure } from './api.js'
import type { Whoami } from './contract.js'

export interface Session {
  api: ConsoleApi
  me: Whoami
  /** a result for screen readers and eyes alike (the polite live region) */
  announce: (message: string) => void
  /** an error (the assertive live region) */
  alert: (message: string) => void
}

export const SessionContext = createContext<Session | null>(null)

export function useSession (): Session {
  const session = useContext(SessionContext)
  if (session === null) throw new Error('useSession outside a signed-in console')
  return session
}

/** An error as the console shows it: the API's own message, then its code and status. */
export function describeFailure (error: unknown): string {
  if (error instanceof ApiFailure) return error.status === 0 ? error.message : `${error.message} (${error.code}, HTTP ${error.status})`
  return error instanceof Error ? error.message : String(error)
}

export type Loaded<T> = { state: 'loading' } | { state: 'done', value: T } | { state: 'failed', error: unknown }

/** Runs `load` whenever `deps` change and on `reload()`; answers its state. */
export function useLoad<T> (load: () => Promise<T>, deps: unknown[]): [Loaded<T>, () => Promise<void>] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' })
  const run = useCallback(async () => {
    try {
      setLoaded({ state: 'done', value: await load() })
    } catch (error) {
      setLoaded({ state: 'failed', error })
    }
  // the caller names what `load` depends on, as with useEffect
  }, deps)
  useEffect(() => {
    setLoaded({ state: 'loading' })
    run().catch(() => {})
  }, [run])
  return [loaded, run]
}

/** Reads a route that other branches are adding: a missing route is `unavailable`, not an error. */
export async function optional<T> (read: () => Promise<T>): Promise<T | 'unavailable'> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof ApiFailure && error.routeMissing) return 'unavailable'
    throw error
  }
}
