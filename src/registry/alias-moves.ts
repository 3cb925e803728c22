import type { RegistryContext } from './context.js'
import { requireFunctionAliasOwner } from './function-alias-owners.js'
import { releaseBeforeLastMove } from './history.js'
import { deployTarget, requireDeployer } from './lambda-sync.js'
import type { Alias } from './model.js'
import { getModel } from './models.js'
import {
  planCanaryAbort, planCanaryPromote, planCanaryStart, planCanaryStep, planPromote, planRollback, planRollbackWithoutTo, rollbackLooksBack,
  servedRelease,
} from './move-plan.js'
import { executeMove, type MoveRequest } from './move-executor.js'
import type { ClaimedAlias } from './move-plan.js'
import type { CommitHook } from './move-settlement.js'
import { releaseNamedInBody } from './releases.js'
import { finishRollout, refuseDuringRollout, runningRollout } from './rollout-store.js'
import { timestamp } from './context.js'
import { checkActor, checkCanaryWeight, checkMoveInput, checkName, type MoveInput } from './validation.js'

/**
 * A move a rollout makes itself: it passes the guard that refuses other moves while the rollout runs, `check`s the
 * alias as claimed (the rollout still at the step it expects), and writes the rollout's bookkeeping in the commit.
 */
export interface RolloutMove {
  rolloutId: string
  check?: ((alias: ClaimedAlias) => Promise<void>) | undefined
  onCommit?: CommitHook | undefined
}

/**
 * The moves of an alias. Each checks its input before the alias is claimed (so bad input never touches the
 * alias), reads the releases its request names once, and hands the executor a plan from move-plan.ts.
 */

/** Points `alias` at `release` (creating the alias at revision 1 if new) and, for the deploy alias, Lambda too. */
export async function promote (ctx: RegistryContext, model: string, alias: string, input: MoveInput & { release: number }, actor: string): Promise<Alias> {
  const move = await prepareMove(ctx, model, alias, input, actor)
  const release = await releaseNamedInBody(ctx, model, input.release, 'release')
  return await executeMove(ctx, {
    ...move,
    action: 'promote',
    // a version recorded before versions carried MODEL_RELEASE is published again; a rollback routes to it as it is
    republishWithoutRelease: true,
    create: true,
    releases: [release],
    plan: async (claimed) => {
      await refuseDuringRollout(ctx, model, alias)
      return planPromote(claimed, release.number)
    },
  })
}

/**
 * Moves `alias` back: to release `to`; without it, removes a running canary, or else returns to the release it
 * served before its last release-changing move (so two rollbacks toggle); move-plan.ts has the rule. For the deploy
 * alias Lambda's alias returns to the version already published.
 */
export async function rollback (ctx: RegistryContext, model: string, alias: string, input: MoveInput & { to?: number | undefined }, actor: string): Promise<Alias> {
  const move = await prepareMove(ctx, model, alias, input, actor)
  const named = input.to === undefined ? undefined : await releaseNamedInBody(ctx, model, input.to, 'to')
  // the emergency path stays open while a rollout runs: the rollback cancels it, in the transaction of its commit
  let cancelling: string | undefined
  return await executeMove(ctx, {
    ...move,
    action: 'rollback',
    releases: named === undefined ? [] : [named],
    onCommit: async (trx) => {
      if (cancelling !== undefined) await finishRollout(trx, cancelling, 'cancelled', timestamp(ctx))
    },
    plan: async (claimed) => {
      servedRelease(claimed) // an alias that serves nothing yet has no history to look back through
      cancelling = (await runningRollout(ctx.db, model, alias))?.id
      const plan = named !== undefined
        ? planRollback(claimed, named.number)
        : planRollbackWithoutTo(claimed, rollbackLooksBack(claimed) ? await releaseBeforeLastMove(ctx, model, alias) : null)
      if (cancelling === undefined) return plan
      const cancelled = `rollout ${cancelling} cancelled`
      return { ...plan, detail: plan.detail === null ? cancelled : `${plan.detail}; ${cancelled}` }
    },
  })
}

/** Sends `weight` (between 0 and 1) of the alias's traffic to `release`; the alias keeps its release. */
export async function startCanary (
  ctx: RegistryContext, model: string, alias: string, input: MoveInput & { release: number, weight: number }, actor: string, rollout?: RolloutMove
): Promise<Alias> {
  const move = await prepareMove(ctx, model, alias, input, actor)
  checkCanaryWeight(input.weight)
  const candidate = await releaseNamedInBody(ctx, model, input.release, 'release')
  return await executeMove(ctx, {
    ...move,
    action: 'canary-start',
    republishWithoutRelease: true,
    releases: [candidate],
    onCommit: rollout?.onCommit,
    plan: async (claimed) => {
      await guard(ctx, claimed, rollout)
      return planCanaryStart(claimed, candidate.number, input.weight)
    },
  })
}

/** A rollout's later step: the canary of `release` gets `weight`; `detail` carries the figures that justified it. */
export async function stepCanary (
  ctx: RegistryContext, model: string, alias: string, input: MoveInput & { release: number, weight: number, detail: string }, actor: string, rollout: RolloutMove
): Promise<Alias> {
  const move = await prepareMove(ctx, model, alias, input, actor)
  checkCanaryWeight(input.weight)
  return await executeMove(ctx, {
    ...move,
    action: 'canary-step',
    onCommit: rollout.onCommit,
    plan: async (claimed) => {
      await guard(ctx, claimed, rollout)
      return planCanaryStep(claimed, input.release, input.weight, input.detail)
    },
  })
}

/** Refuses a move while a rollout runs on the alias, unless it is that rollout's own and its check passes. */
async function guard (ctx: RegistryContext, claimed: ClaimedAlias, rollout: RolloutMove | undefined): Promise<void> {
  await refuseDuringRollout(ctx, claimed.model, claimed.alias, rollout?.rolloutId)
  await rollout?.check?.(claimed)
}

/** Makes the canary's release the whole alias. */
export async function promoteCanary (ctx: RegistryContext, model: string, alias: string, input: MoveInput, actor: string, rollout?: RolloutMove): Promise<Alias> {
  const move = await prepareMove(ctx, model, alias, input, actor)
  return await executeMove(ctx, {
    ...move,
    action: 'canary-promote',
    republishWithoutRelease: true,
    onCommit: rollout?.onCommit,
    plan: async (claimed) => {
      await guard(ctx, claimed, rollout)
      return planCanaryPromote(claimed)
    },
  })
}

/** Sends all of the alias's traffic back to its release. */
export async function abortCanary (ctx: RegistryContext, model: string, alias: string, input: MoveInput, actor: string, rollout?: RolloutMove): Promise<Alias> {
  const move = await prepareMove(ctx, model, alias, input, actor)
  return await executeMove(ctx, {
    ...move,
    action: 'canary-abort',
    onCommit: rollout?.onCommit,
    plan: async (claimed) => {
      await guard(ctx, claimed, rollout)
      return planCanaryAbort(claimed)
    },
  })
}

/**
 * Checks what every move needs before the alias is claimed, so bad input never touches the alias; a model whose
 * Lambda alias another model owns (a registry from before one owner per alias) is refused every move.
 */
async function prepareMove (
  ctx: RegistryContext, model: string, alias: string, input: MoveInput, actor: string
): Promise<Pick<MoveRequest, 'model' | 'alias' | 'actor' | 'reason' | 'ifMatch' | 'force'>> {
  checkActor(actor)
  const found = await getModel(ctx, model)
  checkName('alias', alias)
  const reason = checkMoveInput(input)
  if (deployTarget(found, alias) !== null) requireDeployer(ctx, found)
  await requireFunctionAliasOwner(ctx, found)
  return { model: found, alias, actor, reason, ifMatch: input.ifMatch, force: input.force === true }
}
