import type { AliasLock } from './alias-locks.js'
import type { RegistryContext } from './context.js'
import type { DeployTarget } from './deployer.js'
import { AliasBusyError, AliasNotFoundError } from './errors.js'
import { deployTarget, readLive } from './lambda-sync.js'
import type { Model } from './model.js'
import { listModels } from './models.js'
import { planAdoption, sameServing } from './move-plan.js'
import { commitMove } from './move-executor.js'
import { toClaimedAlias } from './rows.js'

/**
 * Run at start-up: frees locks left by stopped processes, then, for each model with a function, adopts what
 * Lambda's alias serves when a recorded deployment maps it to a release other than the registry's (an interrupted
 * move) with a `reconcile` history entry. Drift that maps to no release is only logged.
 */
export async function reconcile (ctx: RegistryContext, actor: string): Promise<void> {
  // A move interrupted by a crash leaves its lock, which would keep the alias from being reconciled (and moved)
  // until it expires. Alone on the database, any lock is such a leftover; beside other replicas, a lock may belong
  // to a move in flight, so only expired ones are freed.
  const freed = ctx.soleProcess ? await ctx.locks.clearAll() : await ctx.locks.clearExpired()
  if (freed > 0) ctx.logger.warn({ aliases: freed }, 'freed alias locks left by stopped moves')
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

async function reconcileAlias (ctx: RegistryContext, model: Model, target: DeployTarget, actor: string): Promise<void> {
  const alias = model.deployAlias
  let lock: AliasLock
  try {
    lock = await ctx.locks.claim(model.name, alias)
  } catch (error) {
    if (error instanceof AliasNotFoundError) return // never promoted: nothing of the registry's to adopt into
    if (error instanceof AliasBusyError) {
      ctx.logger.info({ model: model.name, alias }, 'a move is in flight; not reconciling this alias')
      return
    }
    throw error
  }
  try {
    const live = await readLive(ctx, model, target)
    const claimed = toClaimedAlias(lock.row)
    if (sameServing(claimed, live.alias)) return
    const adoption = planAdoption(claimed, live.view)
    if (adoption === null) {
      ctx.logger.warn({ model: model.name, alias, live: live.view, release: claimed.release }, 'Lambda serves a version no release maps to; left as it is')
      return
    }
    const moved = await commitMove(ctx, lock, {
      action: 'reconcile',
      actor,
      reason: 'start-up reconcile with Lambda',
      fromRelease: adoption.fromRelease,
      toRelease: adoption.toRelease,
      detail: adoption.detail,
    }, adoption.state, { main: live.view.functionVersion, canary: live.view.canary?.functionVersion ?? null })
    ctx.logger.warn({ model: model.name, alias, release: moved.release, revision: moved.revision, detail: adoption.detail }, 'adopted what Lambda serves')
  } finally {
    await ctx.locks.release(lock) // a no-op once the commit has cleared the lock
  }
}
