import type { AliasLock } from './alias-locks.js'
import type { RegistryContext } from './context.js'
import type { DeployTarget } from './deployer.js'
import { AliasBusyError, AliasNotFoundError, RevisionMismatchError } from './errors.js'
import { deployTarget, readLive } from './lambda-sync.js'
import type { Model } from './model.js'
import { getModel, listModels } from './models.js'
import { planAdoption, sameServing } from './move-plan.js'
import { commitMove, settleTakenOver } from './move-settlement.js'
import { toClaimedAlias } from './rows.js'

export interface ReconcileOptions {
  /**
   * True at start-up: a sole process (SQLite) then takes over every lock, expired or not, since only a process that
   * stopped mid-move can have left one. Beside other replicas only locks past their TTL are taken over.
   */
  startUp?: boolean | undefined
}

/**
 * Run at start-up and then periodically. First settles every move whose lock its holder stopped renewing (a crash,
 * or a 503 outcome_unknown): the lock is taken over, Lambda fenced, and one entry written for that move. Then, for
 * each model with a function, compares what Lambda's alias serves with the registry and, when they differ and the
 * alias is not locked, adopts what Lambda serves with a `reconcile` entry (drift no recorded move explains). Drift
 * that maps to no release is only logged.
 */
export async function reconcile (ctx: RegistryContext, actor: string, options: ReconcileOptions = {}): Promise<void> {
  const anyHolder = options.startUp === true && ctx.soleProcess
  for (const { model: name, alias } of await ctx.locks.abandoned({ anyHolder })) {
    try {
      await settleAbandoned(ctx, await getModel(ctx, name), alias, anyHolder)
    } catch (error) {
      ctx.logger.warn({ model: name, alias, err: error }, 'could not settle the move of an abandoned alias lock')
    }
  }
  if (ctx.deployer === undefined) return
  for (const model of await listModels(ctx)) {
    const target = deployTarget(model, model.deployAlias)
    if (target === null) continue
    try {
      await reconcileAlias(ctx, model, target, actor)
    } catch (error) {
      ctx.logger.warn({ model: model.name, alias: model.deployAlias, err: error }, 'could not reconcile the deploy alias with Lambda')
    }
  }
}

async function settleAbandoned (ctx: RegistryContext, model: Model, alias: string, anyHolder: boolean): Promise<void> {
  let lock: AliasLock
  try {
    lock = await ctx.locks.claim(model.name, alias, { anyHolder })
  } catch (error) {
    // renewed or taken by someone else meanwhile: not abandoned after all
    if (error instanceof AliasBusyError || error instanceof AliasNotFoundError || error instanceof RevisionMismatchError) return
    throw error
  }
  // a fencing failure throws and leaves the lock held to expire again: the next reconcile tries again
  await settleTakenOver(ctx, model, lock)
  await ctx.locks.release(lock)
}

async function reconcileAlias (ctx: RegistryContext, model: Model, target: DeployTarget, actor: string): Promise<void> {
  const alias = model.deployAlias
  // Look without the lock first, so the periodic pass does not make moves busy while nothing drifted.
  const row = await ctx.db.selectFrom('aliases').selectAll().where('model', '=', model.name).where('name', '=', alias).executeTakeFirst()
  if (row === undefined) return // never promoted: nothing of the registry's to adopt into
  if (row.lock_token !== null) return // a move in flight (or one a later pass settles)
  const glance = await readLive(ctx, model, target, { revision: row.revision })
  const claimedBefore = toClaimedAlias(row)
  const drifted = !sameServing(claimedBefore, glance.alias)
  ctx.observer?.aliasDrift?.(model.name, alias, drifted)
  if (!drifted) return

  let lock: AliasLock
  try {
    lock = await ctx.locks.claim(model.name, alias, { ifMatch: row.revision })
  } catch (error) {
    if (error instanceof AliasBusyError || error instanceof RevisionMismatchError) {
      ctx.logger.info({ model: model.name, alias }, 'a move started meanwhile; not reconciling this alias now')
      return
    }
    throw error
  }
  try {
    // adopt only from a Lambda read taken after the alias was seen unlocked (and is now ours), never a cached one
    const live = await readLive(ctx, model, target, 'fresh')
    const claimed = toClaimedAlias(lock.row)
    const still = !sameServing(claimed, live.alias)
    ctx.observer?.aliasDrift?.(model.name, alias, still)
    if (!still) return
    const adoption = planAdoption(claimed, live.view)
    if (adoption === null) {
      ctx.logger.warn({ model: model.name, alias, live: live.view, release: claimed.release }, 'Lambda serves a version no release maps to; left as it is')
      return
    }
    const moved = await commitMove(ctx, lock, {
      action: 'reconcile',
      actor,
      reason: 'reconcile with Lambda',
      fromRelease: adoption.fromRelease,
      toRelease: adoption.toRelease,
      detail: adoption.detail,
    }, adoption.state, { main: live.view.functionVersion, canary: live.view.canary?.functionVersion ?? null })
    ctx.observer?.reconcileAdoption?.()
    ctx.observer?.aliasDrift?.(model.name, alias, false)
    ctx.logger.warn({ model: model.name, alias, release: moved.release, revision: moved.revision, detail: adoption.detail }, 'adopted what Lambda serves')
  } finally {
    await ctx.locks.release(lock) // a no-op once the commit has cleared the lock
  }
}
