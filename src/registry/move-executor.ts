import type { Logger } from 'pino'
import type { WarmupEvent } from '../contract/invoke.js'
import type { AliasLock, ServedVersions } from './alias-locks.js'
import type { RegistryContext } from './context.js'
import { DeployStepError, type DeployTarget } from './deployer.js'
import {
  DeployFailedError, EvaluationRequiredError, GateRejectedError, OutcomeUnknownError, PolicyViolatedError, RevisionMismatchError,
  WarmupFailedError, messageOf,
} from './errors.js'
import { directInvokeEvent, functionFailure } from './function-event.js'
import { deployTarget, publishRelease, requireDeployer } from './lambda-sync.js'
import type { Alias, HistoryAction, Model, Release } from './model.js'
import { deployStepsOf, warmupVersionOf, type ClaimedAlias, type MovePlan } from './move-plan.js'
import { commitMove, finishUnmoved, servesVersions, settleTakenOver, type CommitHook } from './move-settlement.js'
import { checkPromotionPolicy } from './promotion-policy.js'
import { existingRelease } from './releases.js'
import { toClaimedAlias, type HistoryDraft } from './rows.js'

export type { ServedVersions } from './alias-locks.js'

/** One alias move to run: who asks, what for, and how to plan it once the alias is claimed. */
export interface MoveRequest {
  model: Model
  alias: string
  action: HistoryAction
  actor: string
  reason: string | null
  ifMatch?: number | undefined
  /** skip the promotion policy (an admin asked; recorded in the entry's detail) */
  force?: boolean | undefined
  /** true for a promote: a missing alias is created (revision 1 once the move succeeds) */
  create?: boolean | undefined
  /** plans the move from the alias as claimed; may read (the history), never writes */
  plan: (alias: ClaimedAlias) => MovePlan | Promise<MovePlan>
  /** releases the caller has read already (those named in the request): the move does not read them again */
  releases?: Release[] | undefined
  /**
   * true when the move brings a release forward (promote, canary start and promote): a recorded version of it that
   * lacks MODEL_RELEASE (published before versions carried it) is published again; a rollback routes to it as it is
   */
  republishWithoutRelease?: boolean | undefined
  /** what else to write in the transaction that commits the move (a rollout's own bookkeeping) */
  onCommit?: CommitHook | undefined
}

/**
 * Runs one alias move: claim the alias (the only place moves race), settle the move of a holder it took the lock
 * over from, plan the new state from the alias as claimed and record it as the lock's intent, push it to Lambda for
 * the deploy alias (outside any transaction, the lock renewed meanwhile), then move the alias, bump its revision,
 * free the lock and append exactly one history entry in one transaction. When Lambda or the gate fails, the alias
 * stays, the lock is freed and one `failed` or `rejected` entry is written. When routing Lambda fails, Lambda is
 * read back first: it serves the move -> committed ("confirmed by read-back"); it does not -> `failed`; it cannot
 * be read, or the commit after routing fails -> OutcomeUnknownError, the lock left to expire with its intent, for a
 * reconcile to settle.
 */
export async function executeMove (ctx: RegistryContext, request: MoveRequest): Promise<Alias> {
  const { model, alias, action, actor } = request
  const lock = await ctx.locks.claim(model.name, alias, { ifMatch: request.ifMatch, create: request.create === true })
  const log = ctx.logger.child({ model: model.name, alias, action, actor })
  const heartbeat = ctx.locks.heartbeat(lock, () => { log.warn('this move lost its alias lock to another process') })
  try {
    return await runClaimed(ctx, request, lock, log)
  } finally {
    heartbeat.stop()
  }
}

async function runClaimed (ctx: RegistryContext, request: MoveRequest, lock: AliasLock, log: Logger): Promise<Alias> {
  const { model, alias } = request
  let planned: MovePlan
  try {
    if (lock.takenOver !== null) {
      await settleTakenOver(ctx, model, lock)
      if (request.ifMatch !== undefined && lock.row.revision !== request.ifMatch) {
        throw new RevisionMismatchError(`alias ${alias} is at revision ${lock.row.revision}, not ${request.ifMatch}`)
      }
    }
    planned = await request.plan(toClaimedAlias(lock.row))
  } catch (error) {
    await ctx.locks.release(lock)
    if (error instanceof DeployStepError) {
      throw new DeployFailedError(error.step, `Lambda failed at ${error.step} while settling an earlier move; alias ${alias} did not move: ${error.message}`, { cause: error })
    }
    throw error
  }
  let entry: HistoryDraft = { action: request.action, actor: request.actor, reason: request.reason, fromRelease: planned.fromRelease, toRelease: planned.toRelease, detail: planned.detail }
  // the first step of the order: the promotion policy, before anything reaches Lambda
  if (planned.toRelease !== null) {
    let policy: string | null
    try {
      policy = await checkPromotionPolicy(ctx, model, {
        alias, action: request.action, served: lock.row.release, release: planned.toRelease, force: request.force === true,
      })
    } catch (error) {
      if (!(error instanceof EvaluationRequiredError || error instanceof PolicyViolatedError)) {
        await ctx.locks.release(lock)
        throw error
      }
      await finishUnmoved(ctx, lock, { ...entry, detail: error.message }, 'rejected')
      log.warn({ release: planned.toRelease, code: error.code }, 'the promotion policy refused the move')
      throw error
    }
    if (policy !== null) entry = { ...entry, detail: entry.detail === null ? policy : `${entry.detail}; ${policy}` }
  }
  await ctx.locks.recordIntent(lock, { entry, state: planned.state, versions: null })

  let versions: ServedVersions = { main: null, canary: null }
  let confirmed = false
  const target = deployTarget(model, alias)
  if (target !== null) {
    let failure: unknown
    try {
      versions = await pushToLambda(ctx, model, target, planned, request.releases ?? [], lock, entry, lock.row.function_version, request.republishWithoutRelease === true)
    } catch (error) {
      failure = error
      // Lambda failed mid-move, or the gate refused: what this process last read of the alias may no longer hold
      ctx.live.forget(target)
    }
    if (failure !== undefined) {
      const routed = failure instanceof RouteFailedError ? await readBack(ctx, model, target, planned, failure, lock, log) : false
      if (routed === false) {
        const cause = failure instanceof RouteFailedError ? failure.failure : failure
        const rejected = cause instanceof GateRejectedError || cause instanceof WarmupFailedError
        const detail = cause instanceof DeployStepError ? `${cause.step}: ${cause.message}` : messageOf(cause)
        await finishUnmoved(ctx, lock, { ...entry, detail }, rejected ? 'rejected' : 'failed')
        log.warn({ err: cause, release: planned.toRelease }, rejected ? 'the warm-up or the gate rejected the move' : 'pushing the move to Lambda failed')
        if (cause instanceof DeployStepError) {
          throw new DeployFailedError(cause.step, `Lambda failed at ${cause.step}; alias ${alias} did not move: ${cause.message}`, { cause })
        }
        throw cause
      }
      versions = routed
      confirmed = true
    }
  }

  const described = describeVersions(entry.detail, target, versions)
  const detail = confirmed ? `${described === null ? '' : `${described}; `}confirmed by read-back` : described
  try {
    const moved = await commitMove(ctx, lock, { ...entry, detail }, planned.state, versions, request.onCommit)
    log.info({ release: moved.release, revision: moved.revision, canary: moved.canary, functionVersion: versions.main, confirmed }, 'alias moved')
    return moved
  } catch (error) {
    if (target === null) {
      await ctx.locks.release(lock).catch(() => {})
      throw error
    }
    // Lambda serves the move but the registry could not record it: the lock and its intent are left to expire
    log.error({ err: error }, 'Lambda was routed but the move could not be committed; a reconcile will settle it')
    throw outcomeUnknown(ctx, alias, 'Lambda was routed but the registry could not record the move', error)
  }
}

/** A route that failed: the move's routing call may or may not have reached Lambda. */
class RouteFailedError extends Error {
  constructor (readonly failure: unknown, readonly versions: ServedVersions) {
    super(messageOf(failure))
  }
}

/**
 * After a failed route: the versions Lambda serves when they are the move's, false when Lambda serves anything
 * else; OutcomeUnknownError when Lambda cannot be read either.
 */
async function readBack (
  ctx: RegistryContext, model: Model, target: DeployTarget, planned: MovePlan, route: RouteFailedError, lock: AliasLock, log: Logger
): Promise<ServedVersions | false> {
  try {
    const live = await ctx.live.refresh(requireDeployer(ctx, model), target)
    if (servesVersions(live, route.versions, planned.state)) {
      log.warn({ err: route.failure }, 'routing Lambda answered with an error, but reading it back shows the move applied')
      return route.versions
    }
    return false
  } catch (error) {
    log.error({ err: error, routeError: route.failure }, 'routing Lambda failed and reading it back failed too; a reconcile will settle the move')
    throw outcomeUnknown(ctx, lock.alias, 'routing Lambda failed and reading it back failed too', error)
  }
}

function outcomeUnknown (ctx: RegistryContext, alias: string, why: string, cause: unknown): OutcomeUnknownError {
  // the lock expires one TTL after its last renewal; the next reconcile after that settles the move
  const seconds = Math.ceil((ctx.locks.ttlMs + ctx.reconcileIntervalMs) / 1000) + 1
  return new OutcomeUnknownError(seconds,
    `the outcome of the move of alias ${alias} is unknown: ${why}; a reconcile settles it once its lock expires, within about ${seconds} s; read the alias and its history then`,
    { cause })
}

/**
 * Makes Lambda serve `planned`, step by step as deployStepsOf says: each release involved as its published version
 * (reused when one was published before), the target's version warmed up (unless it is `serving` already: the
 * version the alias's release was routed to), the gate run on the candidate's version, then the function's alias
 * routed with the alias revision read while the lock was still ours (so a fenced mover cannot route). Each release
 * is read at most once (not at all when the caller passed it). The intent is recorded with its versions first.
 */
async function pushToLambda (
  ctx: RegistryContext, model: Model, target: DeployTarget, planned: MovePlan, known: Release[], lock: AliasLock, entry: HistoryDraft,
  serving: string | null, republishWithoutRelease: boolean
): Promise<ServedVersions> {
  const releases = new Map(known.map((release) => [release.number, release]))
  const releaseOf = async (number: number): Promise<Release> => {
    const release = releases.get(number) ?? await existingRelease(ctx, model.name, number)
    releases.set(number, release)
    return release
  }
  const deployer = requireDeployer(ctx, model)
  const steps = deployStepsOf(planned, model.gateImages.length, model.prewarm)
  const publish = { republishWithoutRelease }
  const main = await publishRelease(ctx, model, target, await releaseOf(steps.publish.main), publish)
  const canary = steps.publish.canary === null ? null : await publishRelease(ctx, model, target, await releaseOf(steps.publish.canary), publish)
  const versions = { main, canary }
  await ctx.locks.recordIntent(lock, { entry, state: planned.state, versions })
  const warmed = warmupVersionOf(steps, versions, serving)
  if (warmed !== null) await warmUp(ctx, model, target, warmed, steps.warmup!.count, planned.toRelease!)
  if (steps.gate !== null) {
    const version = steps.gate.version === 'canary' ? canary! : main
    await runGate(ctx, model, target, await releaseOf(steps.gate.release), version)
  }
  const weight = steps.route.canaryWeight
  // Fencing: the alias's revision is read first, then the lock is checked to be still ours (the database judges).
  // A process that takes the lock over later fences the alias, which changes that revision: this route then fails.
  const revision = await ctx.live.aliasRevision(deployer, target)
  if (!await ctx.locks.held(lock)) {
    throw new DeployStepError('alias-lock', 'this move stopped renewing its alias lock in time and another process took it over; it did not route Lambda')
  }
  try {
    await deployer.route(target, main, weight === null || canary === null ? undefined : { functionVersion: canary, weight }, revision)
  } catch (error) {
    throw new RouteFailedError(error, versions)
  } finally {
    // routed, or perhaps routed: the next read of the alias asks Lambda
    ctx.live.forget(target)
  }
  return versions
}

/**
 * `count` concurrent `{"warmup": true}` invocations of `functionVersion`, each loading the version's own model in
 * the environment it runs in: Lambda starts as many environments as invocations in flight, so `count` environments
 * are warm before the alias routes traffic to them. All of them run to the end before a verdict: Lambda failing
 * (a DeployStepError) fails the move; a function error rejects it with WarmupFailedError.
 */
async function warmUp (ctx: RegistryContext, model: Model, target: DeployTarget, functionVersion: string, count: number, release: number): Promise<void> {
  const deployer = requireDeployer(ctx, model)
  const settled = await Promise.allSettled(Array.from({ length: count }, async () => await deployer.invoke(target, WARMUP_EVENT, functionVersion)))
  const thrown = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (thrown !== undefined) throw thrown.reason
  const failed = settled.find((s) => s.status === 'fulfilled' && s.value.functionError !== undefined)
  if (failed !== undefined && failed.status === 'fulfilled') {
    const failure = functionFailure(failed.value.payload, failed.value.functionError!)
    throw new WarmupFailedError(`release ${release} was not moved to: its warm-up on version ${functionVersion} failed with ${failure.errorType}: ${failure.errorMessage}`)
  }
}

/** The function's warm-up event: it loads the model its configuration pins, and runs no image. */
const WARMUP_EVENT: WarmupEvent = { warmup: true }

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
