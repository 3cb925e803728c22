import { randomUUID } from 'node:crypto'
import { MAX_STEP_LENGTHS } from '../contract/limits.js'
import { LOCK_OWNER } from './alias-locks.js'
import { abortCanary, promoteCanary, stepCanary, type RolloutMove } from './alias-moves.js'
import { timestamp, type RegistryContext } from './context.js'
import { databaseNow, databaseNowPlus } from './database-clock.js'
import { AliasBusyError, messageOf, NoCanaryError, OutcomeUnknownError, RevisionMismatchError } from './errors.js'
import type { Model, RolloutCriteria, RolloutObservation, RolloutStatus, StepFigures } from './model.js'
import { getModel } from './models.js'
import { finishRollout, recordObservation, type RolloutRow } from './rollout-store.js'
import { judgeStep, stepWindow, verdictDueAt } from './rollout-verdict.js'

/** The actor of the moves a rollout makes on its own (its first step has the caller's). */
export const ROLLOUT_ACTOR = 'rollout'

/** Thrown inside a rollout's own move when the rollout is no longer where its driver thought: the driver lets go. */
class RolloutMovedOnError extends Error {}

/**
 * Drives the running rollouts: each `tick` takes the lease of every running rollout nobody holds (or whose holder
 * stopped renewing it, by the database's clock), renews the leases it holds, and advances each of its rollouts by
 * at most one decision once its step is due: read the step's metrics, record the observation, then extend the step,
 * move to the next weight (`canary-step`), promote (`canary-promote`) or abort (`canary-abort`). Every move commits
 * the rollout's next state in its own transaction, and a driver that takes a rollout over first compares the alias
 * with the rollout (a move settled by a reconcile has no bookkeeping), so no move is ever made twice.
 */
export class RolloutController {
  readonly #ctx: RegistryContext
  /** rollout id -> lease token, for the rollouts this process drives */
  readonly #held = new Map<string, string>()
  /** rollouts with a decision in flight (a move takes seconds; the next ticks only renew their lease) */
  readonly #busy = new Map<string, Promise<void>>()
  /**
   * True until the first tick of a sole process (SQLite): any lease it finds then is a leftover of a process that
   * stopped, so it is taken at once rather than after the TTL, as alias locks are at start-up.
   */
  #anyHolder: boolean

  constructor (ctx: RegistryContext) {
    this.#ctx = ctx
    this.#anyHolder = ctx.soleProcess
  }

  /** One pass: leases taken and renewed, due rollouts advanced in the background. */
  async tick (): Promise<void> {
    const db = this.#ctx.db
    const rows = await db.selectFrom('rollouts').selectAll().where('status', '=', 'running').execute()
    const anyHolder = this.#anyHolder
    this.#anyHolder = false
    for (const row of rows) {
      if (anyHolder && row.lease_token !== null && !this.#held.has(row.id)) {
        await this.#lease(row, true)
      }
      if (!await this.#lease(row)) continue
      if (this.#busy.has(row.id)) continue
      const advancing = this.#advance(row.id)
        .catch((error: unknown) => { this.#ctx.logger.error({ err: error, rollout: row.id }, 'a rollout step failed; the next tick tries again') })
        .finally(() => { this.#busy.delete(row.id) })
      this.#busy.set(row.id, advancing)
    }
    // leases of rollouts that ended meanwhile are let go
    for (const id of this.#held.keys()) if (!rows.some((row) => row.id === id)) this.#held.delete(id)
  }

  /** Waits for the decisions in flight, then gives every lease back (a graceful stop: another process continues at once). */
  async stop (): Promise<void> {
    await Promise.all(this.#busy.values())
    for (const [id, token] of this.#held) {
      await this.#ctx.db.updateTable('rollouts').set({ lease_token: null, lease_owner: null, lease_expires_at: null })
        .where('id', '=', id).where('lease_token', '=', token).execute().catch(() => {})
    }
    this.#held.clear()
  }

  /** Takes or renews the lease of `row`; false when another process holds it. */
  async #lease (row: RolloutRow, anyHolder = false): Promise<boolean> {
    const { db, locks } = this.#ctx
    const expiry = databaseNowPlus(db, locks.ttlMs)
    const mine = this.#held.get(row.id)
    if (mine !== undefined) {
      const renewed = await db.updateTable('rollouts').set({ lease_expires_at: expiry })
        .where('id', '=', row.id).where('lease_token', '=', mine).executeTakeFirst()
      if (Number(renewed.numUpdatedRows) === 1) return true
      this.#held.delete(row.id)
      this.#ctx.logger.warn({ rollout: row.id }, 'this process lost the lease of a rollout to another process')
      return false
    }
    const token = randomUUID()
    let take = db.updateTable('rollouts').set({ lease_token: token, lease_owner: LOCK_OWNER, lease_expires_at: expiry })
      .where('id', '=', row.id).where('status', '=', 'running')
    take = row.lease_token === null
      ? take.where('lease_token', 'is', null)
      : anyHolder
        ? take.where('lease_token', '=', row.lease_token)
        : take.where('lease_token', '=', row.lease_token).where('lease_expires_at', '<', databaseNow(db))
    const taken = await take.executeTakeFirst()
    if (Number(taken.numUpdatedRows) !== 1) return false
    this.#held.set(row.id, token)
    if (row.lease_token !== null) {
      this.#ctx.observer?.lockTakeover?.()
      this.#ctx.logger.warn({ rollout: row.id, previousOwner: row.lease_owner, step: row.current_step }, 'took over a rollout whose driver stopped renewing its lease; it continues from its last recorded step')
    }
    return true
  }

  /** At most one decision for rollout `id`, if its step is due. */
  async #advance (id: string): Promise<void> {
    const ctx = this.#ctx
    const row = await ctx.db.selectFrom('rollouts').selectAll().where('id', '=', id).executeTakeFirst()
    const token = this.#held.get(id)
    if (row?.status !== 'running' || token === undefined || row.lease_token !== token) return
    const log = ctx.logger.child({ model: row.model, alias: row.alias, rollout: id, step: row.current_step })
    const model = await getModel(ctx, row.model)
    const steps = JSON.parse(row.steps) as number[]
    const criteria = JSON.parse(row.criteria) as RolloutCriteria
    const alias = await ctx.db.selectFrom('aliases').selectAll().where('model', '=', row.model).where('name', '=', row.alias).executeTakeFirstOrThrow()

    // A move of this rollout whose commit a reconcile settled (its driver died after routing Lambda) left the
    // rollout's own columns behind: catch up from the alias instead of making that move again.
    if (alias.lock_token !== null) return // a move in flight (perhaps one being settled): look again next tick
    if (alias.canary_release !== row.release) {
      const promoted = alias.release === row.release
      await this.#end(row, promoted ? 'succeeded' : 'aborted', promoted ? null : 'the canary was removed by a move a reconcile settled')
      return
    }
    const next = steps[row.current_step + 1]
    if (next !== undefined && Math.abs((alias.canary_weight ?? 0) - next) < 1e-6) {
      await ctx.db.updateTable('rollouts').set({ current_step: row.current_step + 1, step_started_at: alias.updated_at, step_lengths: 1 })
        .where('id', '=', id).where('current_step', '=', row.current_step).execute()
      log.warn('the step move was settled by a reconcile; the rollout catches up without moving again')
      return
    }

    const settings = ctx.rollouts
    const started = Date.parse(row.step_started_at)
    if (Date.now() < verdictDueAt(started, row.step_seconds, row.step_lengths, settings.delaySeconds)) return
    if (settings.metrics === undefined || model.functionName === null) return
    const window = stepWindow(started, row.step_seconds, row.step_lengths)
    let figures: { candidate: StepFigures, stable: StepFigures }
    try {
      figures = await settings.metrics.read({
        functionName: model.functionName,
        functionAlias: model.functionAlias,
        candidateVersion: alias.canary_function_version ?? '',
        stableVersion: alias.function_version ?? '',
        startMs: window.startMs,
        endMs: window.endMs,
      })
    } catch (error) {
      log.warn({ err: error }, 'the metrics could not be read; the step is extended')
      if (row.step_lengths < MAX_STEP_LENGTHS) {
        await this.#extend(row)
        return
      }
      await this.#abort(model, row, token, 'inconclusive', `the metrics could not be read: ${messageOf(error)}`)
      return
    }
    const verdict = judgeStep(figures, criteria, row.step_lengths)
    const weight = steps[row.current_step]!
    const observation: RolloutObservation = {
      step: row.current_step, weight, ...figures, passed: verdict.kind === 'pass', violations: verdict.violations,
    }
    await recordObservation(ctx.db, id, observation, timestamp(ctx))
    log.info({ verdict: verdict.kind, ...figures, violations: verdict.violations }, 'rollout step judged')
    switch (verdict.kind) {
      case 'extend':
        await this.#extend(row)
        return
      case 'inconclusive':
        await this.#abort(model, row, token, 'inconclusive', `too few invocations of the candidate after ${row.step_lengths * row.step_seconds} s: ${verdict.violations.join('; ')}`)
        return
      case 'fail':
        await this.#abort(model, row, token, 'aborted', verdict.violations.join('; '))
        return
      case 'pass':
        await this.#forward(model, row, token, steps, observation)
    }
  }

  /** The next weight (`canary-step`), or after the last step the promote that ends the rollout `succeeded`. */
  async #forward (model: Model, row: RolloutRow, token: string, steps: number[], passed: RolloutObservation): Promise<void> {
    const ctx = this.#ctx
    const next = steps[row.current_step + 1]
    const reason = this.#reason(row)
    try {
      if (next === undefined) {
        await promoteCanary(ctx, model.name, row.alias, { reason }, ROLLOUT_ACTOR, this.#own(row, token, async (trx) => {
          await finishRollout(trx, row.id, 'succeeded', timestamp(ctx))
        }))
        ctx.observer?.rolloutFinished?.('succeeded')
        return
      }
      const detail = `step ${row.current_step + 2} of ${steps.length}: weight ${next}; step ${row.current_step + 1} at weight ${passed.weight} passed: ` +
        `candidate ${describe(passed.candidate)}; stable ${describe(passed.stable)}`
      await stepCanary(ctx, model.name, row.alias, { release: row.release, weight: next, detail, reason }, ROLLOUT_ACTOR,
        this.#own(row, token, async (trx) => {
          await trx.updateTable('rollouts').set({ current_step: row.current_step + 1, step_started_at: timestamp(ctx), step_lengths: 1 })
            .where('id', '=', row.id).execute()
        }))
    } catch (error) {
      if (error instanceof RolloutMovedOnError || movesLater(error)) return
      await this.#failed(model, row, token, error)
    }
  }

  /** Aborts the canary (`canary-abort` by the rollout) and ends the rollout with `status`, in one transaction. */
  async #abort (model: Model, row: RolloutRow, token: string, status: Extract<RolloutStatus, 'aborted' | 'inconclusive' | 'failed'>, failure: string): Promise<void> {
    const ctx = this.#ctx
    try {
      await abortCanary(ctx, model.name, row.alias, { reason: this.#reason(row) }, ROLLOUT_ACTOR, this.#own(row, token, async (trx) => {
        await finishRollout(trx, row.id, status, timestamp(ctx), failure)
      }))
      ctx.observer?.rolloutFinished?.(status)
      ctx.logger.warn({ model: model.name, alias: row.alias, rollout: row.id, status, failure }, 'rollout ended; its canary is aborted')
    } catch (error) {
      if (error instanceof RolloutMovedOnError || movesLater(error)) return
      if (error instanceof NoCanaryError) {
        await this.#end(row, status, failure)
        return
      }
      // the canary could not be removed (Lambda failing): the rollout ends failed and says so
      await this.#end(row, 'failed', `${failure}; aborting the canary failed: ${messageOf(error)}`)
    }
  }

  /** A step move failed (Lambda, warm-up): the rollout ends `failed`, its canary removed when it can be. */
  async #failed (model: Model, row: RolloutRow, token: string, error: unknown): Promise<void> {
    this.#ctx.logger.warn({ err: error, rollout: row.id }, 'a rollout move failed; the rollout ends failed')
    await this.#abort(model, row, token, 'failed', `the move failed: ${messageOf(error)}`)
  }

  async #extend (row: RolloutRow): Promise<void> {
    await this.#ctx.db.updateTable('rollouts').set({ step_lengths: row.step_lengths + 1 })
      .where('id', '=', row.id).where('current_step', '=', row.current_step).where('step_lengths', '=', row.step_lengths).execute()
  }

  async #end (row: RolloutRow, status: Exclude<RolloutStatus, 'running'>, failure: string | null): Promise<void> {
    if (await finishRollout(this.#ctx.db, row.id, status, timestamp(this.#ctx), failure)) this.#ctx.observer?.rolloutFinished?.(status)
  }

  /**
   * What makes a move this rollout's own: it passes the rollout guard, and checks under the alias's lock that the
   * rollout still runs at the step this driver judged, with this driver's lease.
   */
  #own (row: RolloutRow, token: string, onCommit: RolloutMove['onCommit']): RolloutMove {
    return {
      rolloutId: row.id,
      check: async () => {
        const now = await this.#ctx.db.selectFrom('rollouts').select(['status', 'current_step', 'lease_token']).where('id', '=', row.id).executeTakeFirst()
        if (now?.status !== 'running' || now.current_step !== row.current_step || now.lease_token !== token) {
          throw new RolloutMovedOnError(`rollout ${row.id} moved on`)
        }
      },
      onCommit,
    }
  }

  #reason (row: RolloutRow): string {
    return row.reason === null ? `rollout ${row.id}` : `rollout ${row.id}: ${row.reason}`
  }
}

/**
 * True when a move of the rollout did not fail but could not happen now: another move held the alias (the next
 * tick decides again, after it), or its outcome is unknown (a reconcile settles it, and the next tick catches up
 * from what the alias then serves).
 */
function movesLater (error: unknown): boolean {
  return error instanceof AliasBusyError || error instanceof RevisionMismatchError || error instanceof OutcomeUnknownError
}

function describe (figures: StepFigures): string {
  return `${figures.invocations} invocations, ${figures.errors} errors, p95 ${figures.p95Ms === null ? 'none' : `${Math.round(figures.p95Ms)} ms`}`
}
