/**
 * Every route the console calls, as the OpenAPI document names it (`{model}` for a path parameter). A test checks
 * each against the API's /docs/json, so a renamed or removed route fails the suite, not the page.
 */
export const ROUTES = {
  whoami: { method: 'GET', path: '/v1/whoami' },
  models: { method: 'GET', path: '/v1/models' },
  releases: { method: 'GET', path: '/v1/models/{model}/releases' },
  aliases: { method: 'GET', path: '/v1/models/{model}/aliases' },
  alias: { method: 'GET', path: '/v1/models/{model}/aliases/{alias}' },
  history: { method: 'GET', path: '/v1/models/{model}/aliases/{alias}/history' },
  promote: { method: 'POST', path: '/v1/models/{model}/aliases/{alias}/promote' },
  rollback: { method: 'POST', path: '/v1/models/{model}/aliases/{alias}/rollback' },
  startCanary: { method: 'POST', path: '/v1/models/{model}/aliases/{alias}/canary' },
  promoteCanary: { method: 'POST', path: '/v1/models/{model}/aliases/{alias}/canary/promote' },
  abortCanary: { method: 'DELETE', path: '/v1/models/{model}/aliases/{alias}/canary' },
  evaluations: { method: 'GET', path: '/v1/models/{model}/evaluations' },
  evaluation: { method: 'GET', path: '/v1/models/{model}/evaluations/{id}' },
  rollouts: { method: 'GET', path: '/v1/models/{model}/aliases/{alias}/rollouts' },
  startRollout: { method: 'POST', path: '/v1/models/{model}/aliases/{alias}/rollouts' },
  cancelRollout: { method: 'DELETE', path: '/v1/models/{model}/aliases/{alias}/rollouts/{id}' },
} as const satisfies Record<string, { method: 'GET' | 'POST' | 'DELETE', path: `/v1/${string}` }>

export type RouteName = keyof typeof ROUTES

/** The path parameters a route's template names, e.g. `{ model, alias }`. */
export type RouteParams<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}`
  ? { [K in Name | keyof RouteParams<Rest>]: string }
  : Record<never, string>

/** `/v1/models/{model}` with `{ model: 'a b' }` -> `v1/models/a%20b` (relative: the caller resolves it against the API root). */
export function fillPath<Name extends RouteName> (name: Name, params: RouteParams<(typeof ROUTES)[Name]['path']>): string {
  const values = params as Record<string, string>
  return ROUTES[name].path.slice(1).replace(/\{(\w+)\}/g, (_match, key: string) => {
    const value = values[key]
    if (value === undefined) throw new Error(`route ${name} needs ${key}`)
    return encodeURIComponent(value)
  })
}
