/**
 * How an alias with `RoutingConfig.AdditionalVersionWeights` picks the version of each invocation. Lambda picks at
 * random by the weights; tests that count shares can instead select the seeded router, which is deterministic and
 * exact: after n invocations the additional version has served floor(n * weight + phase) - floor(phase) of them,
 * the phase coming from the seed, so the share is within one invocation of n * weight.
 */
export interface VersionRouter {
  /** The version to run for one invocation of the alias `aliasKey` (its ARN and revision). */
  pick (aliasKey: string, primary: string, additional: { version: string, weight: number } | undefined): string
}

export function randomRouter (random: () => number = Math.random): VersionRouter {
  return {
    pick (_aliasKey, primary, additional) {
      if (additional === undefined) return primary
      return random() < additional.weight ? additional.version : primary
    },
  }
}

export function seededRouter (seed: number): VersionRouter {
  const phaseOf = mulberry32(seed)
  const routes = new Map<string, { phase: number, served: number }>()
  return {
    pick (aliasKey, primary, additional) {
      if (additional === undefined) return primary
      let route = routes.get(aliasKey)
      if (route === undefined) {
        route = { phase: phaseOf(), served: 0 }
        routes.set(aliasKey, route)
      }
      const n = route.served++
      const before = Math.floor(n * additional.weight + route.phase)
      const after = Math.floor((n + 1) * additional.weight + route.phase)
      return after > before ? additional.version : primary
    },
  }
}

/** A small, well-known 32-bit PRNG (Tommy Ettinger's mulberry32): same seed, same sequence, values in [0, 1). */
function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
