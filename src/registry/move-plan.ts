import type { LiveAlias } from './deployer.js'
import { AliasNotFoundError, InvalidInputError, NoCanaryError } from './errors.js'
import type { CanaryState, HistoryAction, LiveView } from './model.js'

/**
 * The decisions of an alias move, as pure functions over plain data: what the alias serves after the move, what its
 * history entry says, and which Deployer steps make Lambda serve it. No I/O here: the executor (move-executor.ts)
 * reads the alias, asks these functions, and runs their answer.
 */

/** An alias as its lock found it. */
export interface ClaimedAlias {
  model: string
  alias: string
  /** null while the alias's first move has not succeeded yet */
  release: number | null
  canary: CanaryState | null
  /** the Lambda versions recorded for `release` and the canary's release (deploy alias only) */
  functionVersion: string | null
  canaryFunctionVersion: string | null
}

/** What an alias serves after a move. */
export interface AliasState {
  release: number
  canary: CanaryState | null
}

/** One planned move: computed while the alias's lock is held, so nothing else changes the alias meanwhile. */
export interface MovePlan {
  state: AliasState
  fromRelease: number | null
  toRelease: number | null
  /** the release the promotion gate must pass (the new candidate), if any */
  gate: number | null
  detail: string | null
  /** true when the target already serves (a canary promoted): no warm-up */
  skipWarmup?: boolean | undefined
}

/** Points the alias at `release`, with no canary. */
export function planPromote (alias: ClaimedAlias, release: number): MovePlan {
  return { state: { release, canary: null }, fromRelease: alias.release, toRelease: release, gate: release, detail: null }
}

/**
 * The history entries a rollback without `to` looks back through: the moves that change which release the alias
 * serves. Canary starts and aborts never count (the alias keeps its release through them).
 */
export const ROLLBACK_LOOKBACK_ACTIONS: readonly HistoryAction[] = ['promote', 'rollback', 'canary-promote', 'reconcile']

/** Moves the alias back to the named release `to`, with no canary. */
export function planRollback (alias: ClaimedAlias, to: number): MovePlan {
  const current = servedRelease(alias)
  return { state: { release: to, canary: null }, fromRelease: current, toRelease: to, gate: to, detail: null }
}

/**
 * Whether a rollback without `to` needs the alias's history: unless a canary runs (which is what such a rollback
 * then removes), its target is the release before the last release-changing move.
 */
export function rollbackLooksBack (alias: ClaimedAlias): boolean {
  return alias.canary === null
}

/**
 * A rollback without `to`. While a canary runs it removes the canary and the alias stays on its release (the entry
 * goes from the canary's release to the alias's). Otherwise it returns to `previous`: the `fromRelease` of the
 * alias's last succeeded ROLLBACK_LOOKBACK_ACTIONS entry whose from and to differ (null: none), so two rollbacks
 * toggle.
 */
export function planRollbackWithoutTo (alias: ClaimedAlias, previous: number | null): MovePlan {
  const current = servedRelease(alias)
  if (alias.canary !== null) {
    // the alias's release serves already: nothing to gate, as for a canary abort
    return {
      state: { release: current, canary: null },
      fromRelease: alias.canary.release,
      toRelease: current,
      gate: null,
      detail: `canary removed: weight ${alias.canary.weight} on release ${alias.canary.release}`,
    }
  }
  if (previous === null) {
    throw new InvalidInputError(`alias ${alias.alias} has served no earlier release to roll back to; name one with "to"`)
  }
  return planRollback(alias, previous)
}

/** Sends `weight` of the alias's traffic to `candidate`; the alias keeps its release. */
export function planCanaryStart (alias: ClaimedAlias, candidate: number, weight: number): MovePlan {
  const current = servedRelease(alias)
  if (candidate === current) {
    throw new InvalidInputError(`alias ${alias.alias} serves release ${current} already: a canary needs another release`)
  }
  return {
    state: { release: current, canary: { release: candidate, weight } },
    fromRelease: current,
    toRelease: candidate,
    gate: candidate,
    detail: `weight ${weight} to release ${candidate}`,
  }
}

/**
 * A rollout's later step: the canary's share of traffic becomes `weight`. From the stable release to the candidate,
 * as a canary start; the gate passed when the canary started, the warm-up readies the environments the larger share
 * needs.
 */
export function planCanaryStep (alias: ClaimedAlias, candidate: number, weight: number, detail: string): MovePlan {
  const current = servedRelease(alias)
  if (alias.canary?.release !== candidate) throw new NoCanaryError(`alias ${alias.alias} runs no canary of release ${candidate} to step`)
  return { state: { release: current, canary: { release: candidate, weight } }, fromRelease: current, toRelease: candidate, gate: null, detail }
}

/** Makes the canary's release the whole alias; its gate passed when the canary started. */
export function planCanaryPromote (alias: ClaimedAlias): MovePlan {
  const current = servedRelease(alias)
  if (alias.canary === null) throw new NoCanaryError(`alias ${alias.alias} runs no canary to promote`)
  return { state: { release: alias.canary.release, canary: null }, fromRelease: current, toRelease: alias.canary.release, gate: null, detail: null, skipWarmup: true }
}

/** Sends all of the alias's traffic back to its release. */
export function planCanaryAbort (alias: ClaimedAlias): MovePlan {
  const current = servedRelease(alias)
  if (alias.canary === null) throw new NoCanaryError(`alias ${alias.alias} runs no canary to abort`)
  return {
    state: { release: current, canary: null },
    fromRelease: alias.canary.release,
    toRelease: current,
    gate: null,
    detail: `weight ${alias.canary.weight} on release ${alias.canary.release} removed`,
  }
}

/** The Deployer steps that make Lambda serve a plan, in the order they run. */
export interface DeploySteps {
  /** the releases that need a published version (the Deployer reuses one that still carries the release's pin) */
  publish: { main: number, canary: number | null }
  /**
   * `count` concurrent warm-up invocations of the published version that the move sends new traffic to (`main` or
   * `canary`), unless that version already serves the alias (see warmupVersionOf); null: no warm-up
   */
  warmup: { version: 'main' | 'canary', count: number } | null
  /** the release the gate images judge and which of the published versions runs them; null: no gate to run */
  gate: { release: number, version: 'main' | 'canary' } | null
  /** the Lambda alias's routing: all traffic on the main version, or this share on the canary's */
  route: { canaryWeight: number | null }
}

/**
 * Which Deployer steps `plan` needs when the model has `gateImages` gate images and warms `prewarm` environments.
 * They run in this order: publish, warm-up, gate, route. The warm-up goes to the version of the move's target
 * release (the canary's when the target is the canary's release).
 */
export function deployStepsOf (plan: MovePlan, gateImages: number, prewarm: number): DeploySteps {
  const canary = plan.state.canary
  const gated = plan.gate !== null && gateImages > 0
  const warmed = plan.toRelease !== null && prewarm > 0 && plan.skipWarmup !== true
  return {
    publish: { main: plan.state.release, canary: canary?.release ?? null },
    warmup: warmed ? { version: plan.toRelease === canary?.release ? 'canary' : 'main', count: prewarm } : null,
    gate: gated ? { release: plan.gate!, version: plan.gate === canary?.release ? 'canary' : 'main' } : null,
    route: { canaryWeight: canary?.weight ?? null },
  }
}

/**
 * The published version the warm-up invokes, once `published` holds the move's versions: null when there is no
 * warm-up, or when that version is the one serving all of the alias's traffic already (`serving`, the version the
 * registry recorded for its release), whose environments are as warm as its traffic keeps them. A rollback to a
 * release whose version differs from what serves is warmed like any other move.
 */
export function warmupVersionOf (steps: DeploySteps, published: { main: string, canary: string | null }, serving: string | null): string | null {
  if (steps.warmup === null) return null
  const version = steps.warmup.version === 'canary' ? published.canary : published.main
  return version === null || version === serving ? null : version
}

/** True when Lambda serves exactly the versions (and canary weight) the registry recorded for the alias. */
export function sameServing (alias: ClaimedAlias, live: LiveAlias): boolean {
  if (alias.functionVersion !== live.functionVersion) return false
  if (live.canary === null) return alias.canary === null
  return alias.canary !== null && alias.canaryFunctionVersion === live.canary.functionVersion &&
    Math.abs(alias.canary.weight - live.canary.weight) < 1e-6
}

/**
 * Adopting what Lambda serves into the registry (reconcile after an interrupted move): null when Lambda serves a
 * version that no release maps to, since the registry cannot name it; nothing is pushed to Lambda.
 */
export function planAdoption (alias: ClaimedAlias, live: LiveView): MovePlan | null {
  if (live.release === null || (live.canary !== null && live.canary.release === null)) return null
  const state: AliasState = {
    release: live.release,
    canary: live.canary === null ? null : { release: live.canary.release!, weight: live.canary.weight },
  }
  const detail = `adopted Lambda's state: ${live.functionName}:${live.functionAlias} serves version ${live.functionVersion} (release ${live.release})` +
    (live.canary === null ? '' : ` and weight ${live.canary.weight} on version ${live.canary.functionVersion} (release ${live.canary.release!})`) +
    `; the registry had ${alias.release === null ? 'no release' : `release ${alias.release}`}` +
    (alias.canary === null ? '' : ` with weight ${alias.canary.weight} on release ${alias.canary.release}`)
  return { state, fromRelease: alias.release, toRelease: state.release, gate: null, detail }
}

/** The release an alias serves; an alias whose first move never succeeded does not exist yet. */
export function servedRelease (alias: ClaimedAlias): number {
  if (alias.release === null) throw new AliasNotFoundError(`model ${alias.model} has no alias ${alias.alias}`)
  return alias.release
}
