import { randomUUID } from 'node:crypto'
import { redactAwsIdentifiers } from '../aws/aws-error-code.js'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import { DEFAULT_TOP_K } from '../contract/limits.js'
import { LOCK_OWNER } from './alias-locks.js'
import { timestamp, type RegistryContext } from './context.js'
import { databaseNow, databaseNowPlus } from './database-clock.js'
import { DeployStepError, type DeployTarget } from './deployer.js'
import { messageOf } from './errors.js'
import type { SideAnswer } from './evaluation-comparison.js'
import { recordedAnswers, storedFiguresOf, type EvaluationInputRow, type EvaluationRow } from './evaluations.js'
import { functionFailure, ownVersionInvokeEvent } from './function-event.js'
import { publishRelease, requireDeployer } from './lambda-sync.js'
import type { Model } from './model.js'
import { getModel } from './models.js'
import { existingRelease } from './releases.js'

/** How an evaluation invokes Lambda. */
export interface EvaluationSettings {
  /** invocations in flight at once, both sides together (default 4) */
  concurrency?: number | undefined
  /** an invocation with no answer by then counts as unanswered (default 60 s) */
  invokeTimeoutMs?: number | undefined
  /** the first retry's delay; each retry doubles it (default 200 ms) */
  retryDelayMs?: number | undefined
}

export const DEFAULT_EVALUATION_CONCURRENCY = 4
export const DEFAULT_EVALUATION_INVOKE_TIMEOUT_MS = 60_000
/** An invocation with no answer is retried this many times, then counts as an error of its side (DESIGN.md). */
export const EVALUATION_RETRIES = 3
/**
 * Invocations in a row that got no answer even after their retries: Lambda is taken to be unreachable and the
 * evaluation ends `failed`, rather than counting every remaining input as an error of both sides.
 */
export const UNREACHABLE_AFTER = 3

/** What happened to an evaluation, for metrics: `succeeded` and `failed` end it. */
export type EvaluationOutcome = 'succeeded' | 'failed'

/** A side of an evaluation: which release, and the Lambda version of its own that answers for it. */
interface Side { name: 'baseline' | 'candidate', release: number, version: string }

/** The run stopped before it ended: this process stops (the lease is given back) or lost its lease. */
class RunStoppedError extends Error {}
/** Lambda could not be reached: the evaluation ends `failed` with this message as its `failure`. */
class LambdaUnreachableError extends Error {}

/**
 * Runs evaluations in the background, each on exactly one process: a lease in the evaluation's row, written and
 * judged by the database's clock as alias locks are, renewed every third of the TTL and taken over once it has not
 * been renewed for the TTL. `resume` (at start-up and periodically) takes every running evaluation whose lease is
 * free or expired, so an evaluation whose process died continues on another process or after a restart, invoking
 * only the inputs with no recorded answer. `stop` ends this process's runs and gives their leases back.
 */
export class EvaluationRunner {
  readonly #ctx: RegistryContext
  readonly #concurrency: number
  readonly #invokeTimeoutMs: number
  readonly #retryDelayMs: number
  readonly #runs = new Map<string, { stop: AbortController, done: Promise<void> }>()
  #stopped = false

  constructor (ctx: RegistryContext, settings: EvaluationSettings = {}) {
    this.#ctx = ctx
    this.#concurrency = settings.concurrency ?? DEFAULT_EVALUATION_CONCURRENCY
    this.#invokeTimeoutMs = settings.invokeTimeoutMs ?? DEFAULT_EVALUATION_INVOKE_TIMEOUT_MS
    this.#retryDelayMs = settings.retryDelayMs ?? 200
  }

  /** Starts running evaluation `id` in the background (nothing when this process runs it already or is stopping). */
  start (id: string, options: { anyHolder?: boolean } = {}): void {
    if (this.#stopped || this.#runs.has(id)) return
    const stop = new AbortController()
    const done = this.#run(id, stop.signal, options.anyHolder === true)
      .catch((error: unknown) => { this.#ctx.logger.error({ err: error, evaluation: id }, 'an evaluation run failed; its lease expires and a process takes it over') })
      .finally(() => { this.#runs.delete(id) })
    this.#runs.set(id, { stop, done })
  }

  /**
   * Starts every running evaluation whose lease is free or expired (with `anyHolder`, every running one not run
   * here: a sole process at start-up knows their holder is dead).
   */
  async resume (options: { anyHolder?: boolean } = {}): Promise<void> {
    const db = this.#ctx.db
    let query = db.selectFrom('evaluations').select('id').where('status', '=', 'running')
    if (options.anyHolder !== true) {
      query = query.where((eb) => eb.or([eb('lease_token', 'is', null), eb('lease_expires_at', '<', databaseNow(db))]))
    }
    for (const { id } of await query.execute()) this.start(id, options)
  }

  /** Ends this process's runs: invocations in flight are cut, answers recorded so far are kept, leases given back. */
  async stop (): Promise<void> {
    this.#stopped = true
    for (const run of this.#runs.values()) run.stop.abort()
    await Promise.all([...this.#runs.values()].map(async (run) => await run.done))
  }

  /** Waits until this process runs no evaluation (tests). */
  async idle (): Promise<void> {
    while (this.#runs.size > 0) await Promise.all([...this.#runs.values()].map(async (run) => await run.done))
  }

  async #run (id: string, stopped: AbortSignal, anyHolder: boolean): Promise<void> {
    const ctx = this.#ctx
    const token = randomUUID()
    if (!await this.#claim(id, token, anyHolder)) return
    const log = ctx.logger.child({ evaluation: id })
    const lost = new AbortController()
    const signal = AbortSignal.any([stopped, lost.signal])
    const heartbeat = this.#heartbeat(id, token, () => {
      log.warn('this evaluation lost its lease to another process')
      lost.abort()
    })
    const startedAt = performance.now()
    try {
      const row = await ctx.db.selectFrom('evaluations').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
      log.info({ model: row.model, candidate: row.candidate, baseline: row.baseline, inputs: row.input_count }, 'evaluation running')
      let failure: string | null = null
      try {
        await this.#invokeAll(row, signal, log)
      } catch (error) {
        if (!(error instanceof LambdaUnreachableError)) throw error
        failure = redactAwsIdentifiers(error.message)
      }
      const figures = storedFiguresOf(await recordedAnswers(ctx, id))
      const status = failure === null ? 'succeeded' : 'failed'
      const finished = await ctx.db.updateTable('evaluations')
        .set({ status, failure, finished_at: timestamp(ctx), figures: JSON.stringify(figures), lease_token: null, lease_owner: null, lease_expires_at: null })
        .where('id', '=', id).where('lease_token', '=', token)
        .executeTakeFirst()
      if (Number(finished.numUpdatedRows) !== 1) return
      ctx.observer?.evaluationFinished?.(status)
      log[status === 'succeeded' ? 'info' : 'warn']({
        model: row.model,
        candidate: row.candidate,
        baseline: row.baseline,
        status,
        failure,
        inputs: row.input_count,
        completed: figures.completed,
        agreement: figures.agreement,
        errors: figures.errors,
        latencyMs: figures.latencyMs,
        changes: figures.changes.length,
        durationMs: Math.round(performance.now() - startedAt),
      }, 'evaluation finished')
    } catch (error) {
      if (error instanceof RunStoppedError || signal.aborted) {
        // stopping: give the lease back so that another process (or this one restarted) resumes at once
        await ctx.db.updateTable('evaluations').set({ lease_token: null, lease_owner: null, lease_expires_at: null })
          .where('id', '=', id).where('lease_token', '=', token).execute().catch(() => {})
        log.info('evaluation paused: this process stops or lost its lease; the answers so far are kept')
        return
      }
      // anything else would fail the same way on every process that takes it over: end it rather than loop
      const ended = await ctx.db.updateTable('evaluations')
        .set({ status: 'failed', failure: redactAwsIdentifiers(`the evaluation could not run: ${messageOf(error)}`), finished_at: timestamp(ctx), lease_token: null, lease_owner: null, lease_expires_at: null })
        .where('id', '=', id).where('lease_token', '=', token)
        .executeTakeFirst().catch(() => undefined)
      if (ended !== undefined && Number(ended.numUpdatedRows) === 1) ctx.observer?.evaluationFinished?.('failed')
      throw error
    } finally {
      heartbeat.stop()
    }
  }

  /** Publishes (or reuses) both sides' versions, then invokes every side of every input that has no answer yet. */
  async #invokeAll (row: EvaluationRow, signal: AbortSignal, log: Logger): Promise<void> {
    const ctx = this.#ctx
    const model = await getModel(ctx, row.model)
    if (model.functionName === null) throw new LambdaUnreachableError(`model ${model.name} has no functionName any more`)
    const target: DeployTarget = { functionName: model.functionName, functionAlias: model.functionAlias }
    const sides: Side[] = []
    for (const [name, number] of [['baseline', row.baseline], ['candidate', row.candidate]] as const) {
      const release = await existingRelease(ctx, model.name, number)
      // its own version, never an alias move: a release that serves nothing loads into no environment that serves
      const version = await this.#withRetries(signal, `publish-version of release ${number}`,
        async () => await publishRelease(ctx, model, target, release, { republishWithoutRelease: true }))
      if (version === undefined) throw new LambdaUnreachableError(`Lambda unreachable: publishing release ${number}'s version failed ${EVALUATION_RETRIES + 1} times`)
      sides.push({ name, release: number, version })
    }
    const pending = await ctx.db.selectFrom('evaluation_inputs').selectAll().where('evaluation', '=', row.id)
      .where((eb) => eb.or([eb('baseline_answer', 'is', null), eb('candidate_answer', 'is', null)]))
      .orderBy('position').execute()
    const tasks = pending.flatMap((input) => sides.filter((side) => input[`${side.name}_answer`] === null).map((side) => ({ input, side })))
    log.debug({ tasks: tasks.length }, 'invocations left')
    let next = 0
    let unanswered = 0
    let lastFailure = ''
    let halted = false
    const worker = async (): Promise<void> => {
      for (;;) {
        if (signal.aborted) throw new RunStoppedError('stopped')
        if (halted) return
        const task = tasks[next++]
        if (task === undefined) return
        const answer = await this.#answer(model, target, row, task.input, task.side, signal)
        if (signal.aborted) throw new RunStoppedError('stopped')
        if (answer === undefined) {
          unanswered++
          lastFailure = `invocations of ${task.side.name} release ${task.side.release} got no answer after ${EVALUATION_RETRIES} retries`
          if (unanswered >= UNREACHABLE_AFTER) {
            halted = true
            throw new LambdaUnreachableError(`Lambda unreachable: ${UNREACHABLE_AFTER} ${lastFailure}`)
          }
        } else {
          unanswered = 0
        }
        await ctx.db.updateTable('evaluation_inputs')
          .set({ [`${task.side.name}_answer`]: JSON.stringify(answer ?? { error: 'no answer from Lambda after retries' }) })
          .where('evaluation', '=', row.id).where('position', '=', task.input.position)
          .execute()
      }
    }
    const workers = Array.from({ length: Math.min(this.#concurrency, Math.max(1, tasks.length)) }, worker)
    const settled = await Promise.allSettled(workers)
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /** One side's answer for one input; undefined when Lambda gave none even after the retries. */
  async #answer (model: Model, target: DeployTarget, row: EvaluationRow, input: EvaluationInputRow, side: Side, signal: AbortSignal): Promise<SideAnswer | undefined> {
    const deployer = requireDeployer(this.#ctx, model)
    const image = { bucket: row.input_bucket, key: input.key, ...(input.version_id === null ? {} : { versionId: input.version_id }) }
    return await this.#withRetries(signal, `invoke of ${side.name}`, async () => {
      const began = performance.now()
      const result = await deployer.invoke(target, ownVersionInvokeEvent(image, DEFAULT_TOP_K), side.version,
        { timeoutMs: this.#invokeTimeoutMs, signal })
      const ms = performance.now() - began
      if (result.functionError !== undefined) {
        const failure = functionFailure(result.payload, result.functionError)
        return { error: `${failure.errorType}: ${failure.errorMessage}` }
      }
      return answerOf(result.payload, ms)
    })
  }

  /** Runs `call`, retrying EVALUATION_RETRIES times what got no answer (a DeployStepError); undefined after the last. */
  async #withRetries<T> (signal: AbortSignal, what: string, call: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call()
      } catch (error) {
        if (signal.aborted) throw new RunStoppedError('stopped')
        if (!(error instanceof DeployStepError)) throw error
        this.#ctx.logger.debug({ err: error, attempt }, `${what} got no answer`)
        if (attempt >= EVALUATION_RETRIES) return undefined
        await sleep(this.#retryDelayMs * 2 ** attempt, undefined, { signal }).catch(() => {})
      }
    }
  }

  async #claim (id: string, token: string, anyHolder: boolean): Promise<boolean> {
    const db = this.#ctx.db
    let update = db.updateTable('evaluations')
      .set({ lease_token: token, lease_owner: LOCK_OWNER, lease_expires_at: databaseNowPlus(db, this.#ctx.locks.ttlMs) })
      .where('id', '=', id).where('status', '=', 'running')
    if (!anyHolder) update = update.where((eb) => eb.or([eb('lease_token', 'is', null), eb('lease_expires_at', '<', databaseNow(db))]))
    const claimed = await update.executeTakeFirst()
    if (Number(claimed.numUpdatedRows) !== 1) return false
    const taken = await db.selectFrom('evaluations').select('lease_owner').where('id', '=', id).executeTakeFirst()
    this.#ctx.logger.debug({ evaluation: id, owner: taken?.lease_owner }, 'evaluation lease taken')
    return true
  }

  /** Renews the lease every third of the TTL; `lost` once a renewal finds it is no longer ours. */
  #heartbeat (id: string, token: string, lost: () => void): { stop: () => void } {
    const db = this.#ctx.db
    const ttlMs = this.#ctx.locks.ttlMs
    let stopped = false
    const timer = setInterval(() => {
      db.updateTable('evaluations').set({ lease_expires_at: databaseNowPlus(db, ttlMs) })
        .where('id', '=', id).where('lease_token', '=', token).executeTakeFirst()
        .then((renewed) => {
          if (Number(renewed.numUpdatedRows) !== 1 && !stopped) {
            stopped = true
            clearInterval(timer)
            lost()
          }
        }, () => {})
    }, Math.max(1, Math.floor(ttlMs / 3)))
    timer.unref()
    return { stop: () => { stopped = true; clearInterval(timer) } }
  }
}

/** A direct-invoke answer as one side's answer: its top classes, the round trip and whether it started cold. */
function answerOf (payload: unknown, ms: number): SideAnswer {
  const body = (payload ?? {}) as { predictions?: unknown, environment?: { coldStart?: unknown } }
  if (!Array.isArray(body.predictions)) return { error: 'the function answered no predictions' }
  const top = body.predictions
    .filter((p): p is { index: number, label: string } => typeof p?.index === 'number' && typeof p?.label === 'string')
    .map((p) => ({ index: p.index, label: p.label }))
  return { top, ms: Math.round(ms * 1000) / 1000, coldStart: body.environment?.coldStart === true }
}
