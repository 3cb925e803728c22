import type { AliasLock } from './alias-locks.js'
import { timestamp, type RegistryContext } from './context.js'
import { DeployStepError, type DeployTarget } from './deployer.js'
import { AliasBusyError, DeployFailedError, GateRejectedError, messageOf } from './errors.js'
import { directInvokeEvent, functionFailure } from './function-event.js'
import { appendHistory } from './history.js'
import { deployTarget, publishRelease, requireDeployer } from './lambda-sync.js'
import type { Alias, HistoryAction, HistoryOutcome, Model, Release } from './model.js'
import { deployStepsOf, type AliasState, type ClaimedAlias, type MovePlan } from './move-plan.js'
import { existingRelease } from './releases.js'
import { toAlias, toClaimedAlias, type HistoryDraft } from './rows.js'

/** The Lambda versions an alias serves after a move (null for a registry-only alias). */
export interface ServedVersions { main: string | null, canary: string | null }

/** One alias move to run: who asks, what for, and how to plan it once the alias is claimed. */
export interface MoveRequest {
  model: Model
  alias: string
  action: HistoryAction
  actor: string
  reason: string | null
  ifMatch?: number | undefined
  /** true for a promote: a missing alias is created (revision 1 once the move succeeds) */
  create?: boolean | undefined
  /** plans the move from the alias as claimed; may read (the history), never writes */
  plan: (alias: ClaimedAlias) => MovePlan | Promise<MovePlan>
  /** releases the caller has read already (those named in the request): the move does not read them again */
  releases?: Release[] | undefined
}

/**
 * Runs one alias move: claim the alias (the only place moves race), plan the new state from the alias as claimed,
 * push it to Lambda for the deploy alias (outside any transaction), then move the alias, bump its revision, free
 * the lock and append exactly one history entry in one transaction. When Lambda or the gate fails, the alias
 * stays, the lock is freed and one `failed` or `rejected` entry is written.
 */
export async function executeMove (ctx: RegistryContext, request: MoveRequest): Promise<Alias> {
  const { model, alias, action, actor } = request
  const lock = await ctx.locks.claim(model.name, alias, { ifMatch: request.ifMatch, create: request.create === true })
  const log = ctx.logger.child({ model: model.name, alias, action, actor })
  let planned: MovePlan
  try {
    planned = await request.plan(toClaimedAlias(lock.row))
  } catch (error) {
    await ctx.locks.release(lock)
    throw error
  }
  const entry: HistoryDraft = { action, actor, reason: request.reason, fromRelease: planned.fromRelease, toRelease: planned.toRelease, detail: planned.detail }

  let versions: ServedVersions = { main: null, canary: null }
  const target = deployTarget(model, alias)
  if (target !== null) {
    try {
      versions = await pushToLambda(ctx, model, target, planned, request.releases ?? [])
    } catch (error) {
      const rejected = error instanceof GateRejectedError
      const detail = error instanceof DeployStepError ? `${error.step}: ${error.message}` : messageOf(error)
      await finishUnmoved(ctx, lock, { ...entry, detail }, rejected ? 'rejected' : 'failed')
      log.warn({ err: error, release: planned.toRelease }, rejected ? 'the gate rejected the move' : 'pushing the move to Lambda failed')
      if (error instanceof DeployStepError) {
        throw new DeployFailedError(error.step, `Lambda failed at ${error.step}; alias ${alias} did not move: ${error.message}`, { cause: error })
      }
      throw error
    }
  }

  try {
    const moved = await commitMove(ctx, lock, { ...entry, detail: describeVersions(entry.detail, target, versions) }, planned.state, versions)
    log.info({ release: moved.release, revision: moved.revision, canary: moved.canary, functionVersion: versions.main }, 'alias moved')
    return moved
  } catch (error) {
    await ctx.locks.release(lock).catch(() => {})
    throw error
  }
}

/** Moves the alias to `state` and writes its `succeeded` entry, in one transaction, if the lock is still ours. */
export async function commitMove (ctx: RegistryContext, lock: AliasLock, entry: HistoryDraft, state: AliasState, versions: ServedVersions): Promise<Alias> {
  const now = timestamp(ctx)
  return await ctx.db.transaction().execute(async (trx) => {
    const updated = await trx.updateTable('aliases')
      .set((eb) => ({
        release: state.release,
        revision: eb('revision', '+', 1),
        updated_at: now,
        function_version: versions.main,
        canary_release: state.canary?.release ?? null,
        canary_weight: state.canary?.weight ?? null,
        canary_function_version: state.canary === null ? null : versions.canary,
        lock_token: null,
        lock_expires_at: null,
      }))
      .where('model', '=', lock.model)
      .where('name', '=', lock.alias)
      .where('lock_token', '=', lock.token)
      .executeTakeFirst()
    if (Number(updated.numUpdatedRows) !== 1) {
      // Only when this move outlived its lock and another move took the alias: do not overwrite that move.
      throw new AliasBusyError(`the move of alias ${lock.alias} took longer than its lock and another move took over`)
    }
    await appendHistory(trx, lock, entry, 'succeeded', now)
    const row = await trx.selectFrom('aliases').selectAll().where('model', '=', lock.model).where('name', '=', lock.alias).executeTakeFirstOrThrow()
    return toAlias(row)
  })
}

/** Frees the lock and records a move that did not happen, in one transaction. */
async function finishUnmoved (ctx: RegistryContext, lock: AliasLock, entry: HistoryDraft, outcome: HistoryOutcome): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    await ctx.locks.release(lock, trx)
    await appendHistory(trx, lock, entry, outcome, timestamp(ctx))
  })
}

/**
 * Makes Lambda serve `planned`, step by step as deployStepsOf says: each release involved as its published version
 * (reused when one was published before), the gate run on the candidate's version, then the function's alias
 * routed. Each release is read at most once (not at all when the caller passed it). Returns the versions.
 */
async function pushToLambda (ctx: RegistryContext, model: Model, target: DeployTarget, planned: MovePlan, known: Release[]): Promise<ServedVersions> {
  const releases = new Map(known.map((release) => [release.number, release]))
  const releaseOf = async (number: number): Promise<Release> => {
    const release = releases.get(number) ?? await existingRelease(ctx, model.name, number)
    releases.set(number, release)
    return release
  }
  const steps = deployStepsOf(planned, model.gateImages.length)
  const main = await publishRelease(ctx, model, target, await releaseOf(steps.publish.main))
  const canary = steps.publish.canary === null ? null : await publishRelease(ctx, model, target, await releaseOf(steps.publish.canary))
  if (steps.gate !== null) {
    const version = steps.gate.version === 'canary' ? canary! : main
    await runGate(ctx, model, target, await releaseOf(steps.gate.release), version)
  }
  const weight = steps.route.canaryWeight
  await requireDeployer(ctx, model).route(target, main, weight === null || canary === null ? undefined : { functionVersion: canary, weight })
  return { main, canary }
}

/** Invokes the candidate's version with its pin on each gate image; GateRejectedError on the first function error. */
async function runGate (ctx: RegistryContext, model: Model, target: DeployTarget, release: Release, functionVersion: string): Promise<void> {
  for (const image of model.gateImages) {
    const where = `gate image s3://${image.bucket}/${image.key}`
    // Lambda itself failing (unreachable, throttled) throws a DeployStepError: the move fails (502, `failed`) with
    // no verdict on the release. Only the candidate's own answer can reject it.
    const result = await requireDeployer(ctx, model).invoke(target, directInvokeEvent(image, release, 1), functionVersion)
    if (result.functionError !== undefined) {
      const failure = functionFailure(result.payload, result.functionError)
      throw new GateRejectedError(`release ${release.number} was not promoted: ${where} failed with ${failure.errorType}: ${failure.errorMessage}`)
    }
  }
}

/** The entry's detail, with the Lambda versions the alias now serves. */
function describeVersions (detail: string | null, target: DeployTarget | null, versions: ServedVersions): string | null {
  if (target === null || versions.main === null) return detail
  const lambda = `Lambda ${target.functionName}:${target.functionAlias} -> version ${versions.main}` +
    (versions.canary === null ? '' : ` with canary version ${versions.canary}`)
  return detail === null ? lambda : `${detail}; ${lambda}`
}
