import type { Kysely } from 'kysely'
import { freeLockColumns, noIntentColumns, type AliasLock, type ServedVersions } from './alias-locks.js'
import { timestamp, type RegistryContext } from './context.js'
import type { RegistrySchema } from './db.js'
import type { LiveAlias } from './deployer.js'
import { AliasBusyError } from './errors.js'
import { appendHistory } from './history.js'
import { deployTarget, requireDeployer } from './lambda-sync.js'
import type { Alias, HistoryOutcome, Model } from './model.js'
import type { AliasState } from './move-plan.js'
import { toAlias, type HistoryDraft } from './rows.js'

/** The detail every entry written for another process's interrupted move starts with. */
export const SETTLED_BY_RECONCILE = 'settled by reconcile'

/** True when Lambda's alias routes exactly `versions` with the canary weight of `state`. */
export function servesVersions (live: LiveAlias, versions: ServedVersions, state: AliasState): boolean {
  if (live.functionVersion !== versions.main) return false
  if (live.canary === null) return state.canary === null
  return state.canary !== null && versions.canary === live.canary.functionVersion && Math.abs(live.canary.weight - state.canary.weight) < 1e-6
}

/**
 * Settles the move of a lock taken over from a holder that stopped renewing it (it crashed, or answered 503):
 * fences the Lambda alias first (so that holder can no longer route it), then writes one entry with the move's own
 * action, actor and reason, `succeeded` (and the alias moved) when Lambda serves what it intended, else `failed`.
 * The lock stays held by the caller, with the intent forgotten; `lock.row` becomes the alias as it now is.
 */
export async function settleTakenOver (ctx: RegistryContext, model: Model, lock: AliasLock): Promise<void> {
  if (lock.takenOver === null) return
  const log = ctx.logger.child({ model: model.name, alias: lock.alias, previousOwner: lock.takenOver.owner })
  ctx.observer?.lockTakeover?.()
  const target = deployTarget(model, lock.alias)
  let live: LiveAlias | null = null
  if (target !== null) {
    const deployer = requireDeployer(ctx, model)
    await ctx.live.fence(deployer, target)
    if (lock.takenOver.intent?.versions != null) live = await ctx.live.refresh(deployer, target)
  }
  const intent = lock.takenOver.intent
  await ctx.db.transaction().execute(async (trx) => {
    const clear = noIntentColumns()
    if (intent === null) {
      await trx.updateTable('aliases').set(clear).where('model', '=', lock.model).where('name', '=', lock.alias).where('lock_token', '=', lock.token).execute()
      return
    }
    const served = live !== null && intent.versions !== null && servesVersions(live, intent.versions, intent.state)
    const lambda = target === null || live === null ? '' : `; Lambda ${target.functionName}:${target.functionAlias} serves version ${live.functionVersion}`
    const detail = `${SETTLED_BY_RECONCILE}${lambda}`
    if (served) {
      await moveAlias(trx, ctx, lock, intent.state, intent.versions!, { keepLock: true })
    } else {
      await trx.updateTable('aliases').set(clear).where('model', '=', lock.model).where('name', '=', lock.alias).where('lock_token', '=', lock.token).execute()
    }
    await appendHistory(trx, lock, { ...intent.entry, detail }, served ? 'succeeded' : 'failed', timestamp(ctx))
    log.warn({ action: intent.entry.action, outcome: served ? 'succeeded' : 'failed' }, 'settled a move whose process stopped renewing its lock')
  })
  lock.row = await ctx.db.selectFrom('aliases').selectAll().where('model', '=', lock.model).where('name', '=', lock.alias).executeTakeFirstOrThrow()
  lock.takenOver = null
}

/**
 * Moves the alias to `state` (revision + 1) if the lock is still ours; frees the lock unless `keepLock`.
 * AliasBusyError when the lock was taken over meanwhile.
 */
export async function moveAlias (
  trx: Kysely<RegistrySchema>, ctx: RegistryContext, lock: AliasLock, state: AliasState, versions: ServedVersions, options: { keepLock?: boolean } = {}
): Promise<void> {
  const updated = await trx.updateTable('aliases')
    .set((eb) => ({
      release: state.release,
      revision: eb('revision', '+', 1),
      updated_at: timestamp(ctx),
      function_version: versions.main,
      canary_release: state.canary?.release ?? null,
      canary_weight: state.canary?.weight ?? null,
      canary_function_version: state.canary === null ? null : versions.canary,
      ...(options.keepLock === true
        ? noIntentColumns()
        : freeLockColumns()),
    }))
    .where('model', '=', lock.model)
    .where('name', '=', lock.alias)
    .where('lock_token', '=', lock.token)
    .executeTakeFirst()
  if (Number(updated.numUpdatedRows) !== 1) {
    // Only when this move outlived its lock and another process took the alias: do not overwrite that move.
    throw new AliasBusyError(`the move of alias ${lock.alias} lost its lock to another process`)
  }
}

/** What else a move writes in the transaction that commits it (a rollout's step, a cancelled rollout). */
export type CommitHook = (trx: Kysely<RegistrySchema>) => Promise<void>

/**
 * Moves the alias to `state` and writes its `succeeded` entry, in one transaction, if the lock is still ours;
 * `also` writes in that same transaction.
 */
export async function commitMove (
  ctx: RegistryContext, lock: AliasLock, entry: HistoryDraft, state: AliasState, versions: ServedVersions, also?: CommitHook
): Promise<Alias> {
  return await ctx.db.transaction().execute(async (trx) => {
    await moveAlias(trx, ctx, lock, state, versions)
    await appendHistory(trx, lock, entry, 'succeeded', timestamp(ctx))
    await also?.(trx)
    const row = await trx.selectFrom('aliases').selectAll().where('model', '=', lock.model).where('name', '=', lock.alias).executeTakeFirstOrThrow()
    return toAlias(row)
  })
}

/** Frees the lock and records a move that did not happen, in one transaction; nothing when the lock is no longer ours. */
export async function finishUnmoved (ctx: RegistryContext, lock: AliasLock, entry: HistoryDraft, outcome: HistoryOutcome): Promise<boolean> {
  return await ctx.db.transaction().execute(async (trx) => {
    const freed = await trx.updateTable('aliases').set(freeLockColumns())
      .where('model', '=', lock.model).where('name', '=', lock.alias).where('lock_token', '=', lock.token)
      .executeTakeFirst()
    // a lock lost to another process: that process settles this move and writes its one entry
    if (Number(freed.numUpdatedRows) !== 1) return false
    await appendHistory(trx, lock, entry, outcome, timestamp(ctx))
    return true
  })
}
