import { randomUUID } from 'node:crypto'
import type { Selectable } from 'kysely'
import { DEFAULT_EVALUATION_INPUTS, MAX_EVALUATION_INPUTS, MAX_EVALUATION_LISTED, MAX_KEY_BYTES } from '../contract/limits.js'
import { timestamp, type RegistryContext } from './context.js'
import type { EvaluationInputsTable, EvaluationsTable } from './db.js'
import { EvaluationNotFoundError, InvalidInputError, NoInputsError, NotDeployedError } from './errors.js'
import {
  compareAnswers, verdictOf, type EvaluationFigures, type InputAnswers, type SideAnswer, type Verdict, type VouchingEvaluation,
} from './evaluation-comparison.js'
import { requireDeployer } from './lambda-sync.js'
import type { Model } from './model.js'
import { getModel } from './models.js'
import { releaseNamedInBody } from './releases.js'
import { checkActor, checkBucket, checkObject, checkReleaseNumber, optionalText } from './validation.js'

/**
 * Evaluations as records: creating one (its inputs chosen and stored), reading and listing them. Running them is
 * evaluation-runner.ts; comparing answers and judging them, evaluation-comparison.ts.
 */

export type EvaluationStatus = 'running' | 'succeeded' | 'failed'

/** An evaluation as the API shows it (DESIGN.md, "Evaluations"). */
export interface Evaluation extends EvaluationFigures {
  id: string
  model: string
  candidate: number
  baseline: number
  status: EvaluationStatus
  failure: string | null
  reason: string | null
  actor: string
  startedAt: string
  finishedAt: string | null
  inputs: { bucket: string, prefix: string, count: number }
  /** inputs both sides have an answer (or an error) for */
  completed: number
  /** against the model's promotion policy as it is now; null while running, when failed, or without a policy */
  verdict: Verdict | null
}

/** What creating an evaluation takes (the body of `POST .../evaluations`). */
export interface EvaluationInput {
  candidate: number
  baseline?: number | undefined
  inputs: { bucket: string, prefix?: string | undefined, modifiedAfter?: string | undefined, limit?: number | undefined }
  reason?: string | null | undefined
}

export type EvaluationRow = Selectable<EvaluationsTable>
export type EvaluationInputRow = Selectable<EvaluationInputsTable>

/** The figures stored once an evaluation ends: the comparison, and how many inputs were completed. */
export interface StoredFigures extends EvaluationFigures { completed: number }

/**
 * Starts recording an evaluation of `candidate` against `baseline` (default: the release the deploy alias serves):
 * checks the request, lists the bucket, stores the `limit` most recently modified objects as its inputs and answers
 * the evaluation, `running` with nothing completed. The caller runs it (EvaluationRunner).
 */
export async function createEvaluation (ctx: RegistryContext, modelName: string, input: EvaluationInput, actor: string): Promise<Evaluation> {
  checkActor(actor)
  const model = await getModel(ctx, modelName)
  checkObject(input, 'the request body')
  checkReleaseNumber('candidate', input.candidate)
  if (input.baseline !== undefined) checkReleaseNumber('baseline', input.baseline)
  checkObject(input.inputs, 'inputs')
  const { bucket, prefix = '', modifiedAfter, limit = DEFAULT_EVALUATION_INPUTS } = input.inputs
  checkBucket('inputs.bucket', bucket)
  if (typeof prefix !== 'string' || Buffer.byteLength(prefix) > MAX_KEY_BYTES) throw new InvalidInputError(`inputs.prefix must be text of at most ${MAX_KEY_BYTES} bytes`)
  let after: Date | undefined
  if (modifiedAfter !== undefined) {
    after = new Date(typeof modifiedAfter === 'string' ? modifiedAfter : Number.NaN)
    if (Number.isNaN(after.getTime())) throw new InvalidInputError('inputs.modifiedAfter must be an ISO-8601 time')
  }
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVALUATION_INPUTS) {
    throw new InvalidInputError(`inputs.limit must be an integer from 1 to ${MAX_EVALUATION_INPUTS}`)
  }
  const reason = optionalText('reason', input.reason)
  const candidate = await releaseNamedInBody(ctx, model.name, input.candidate, 'candidate')
  let baselineNumber = input.baseline
  if (baselineNumber === undefined) {
    const served = await ctx.db.selectFrom('aliases').select('release')
      .where('model', '=', model.name).where('name', '=', model.deployAlias).executeTakeFirst()
    if (served?.release === null || served?.release === undefined) {
      throw new InvalidInputError(`alias ${model.deployAlias} of model ${model.name} serves no release yet: name a baseline`)
    }
    baselineNumber = served.release
  }
  const baseline = await releaseNamedInBody(ctx, model.name, baselineNumber, 'baseline')
  if (baseline.number === candidate.number) throw new InvalidInputError(`candidate and baseline are both release ${candidate.number}: compare two releases`)
  requireFunction(ctx, model)

  const listed = await ctx.store.listCurrentObjects(bucket, prefix, { max: MAX_EVALUATION_LISTED, modifiedAfter: after })
  if (listed.length === 0) {
    throw new NoInputsError(`bucket ${bucket} holds no object under prefix "${prefix}"${after === undefined ? '' : ` modified after ${after.toISOString()}`}`)
  }
  // the most recently modified first; the key breaks ties so that the choice does not depend on the listing's order
  const chosen = [...listed].sort((a, b) => b.lastModified.localeCompare(a.lastModified) || a.key.localeCompare(b.key)).slice(0, limit)
  const row: EvaluationRow = {
    id: randomUUID(),
    model: model.name,
    candidate: candidate.number,
    baseline: baseline.number,
    status: 'running',
    failure: null,
    reason,
    actor,
    started_at: timestamp(ctx),
    finished_at: null,
    input_bucket: bucket,
    input_prefix: prefix,
    input_count: chosen.length,
    figures: null,
    lease_token: null,
    lease_owner: null,
    lease_expires_at: null,
  }
  await ctx.db.transaction().execute(async (trx) => {
    await trx.insertInto('evaluations').values(row).execute()
    // in slices: SQLite binds at most 32,766 parameters in one statement
    for (let i = 0; i < chosen.length; i += 500) {
      await trx.insertInto('evaluation_inputs').values(chosen.slice(i, i + 500).map((object, j) => ({
        evaluation: row.id, position: i + j, key: object.key, version_id: object.versionId, baseline_answer: null, candidate_answer: null,
      }))).execute()
    }
  })
  ctx.logger.info({ model: model.name, evaluation: row.id, candidate: candidate.number, baseline: baseline.number, inputs: chosen.length, actor }, 'evaluation created')
  return toEvaluation(row, model, { ...compareAnswers([]), completed: 0 })
}

/** The evaluations of a model, newest first. */
export async function listEvaluations (ctx: RegistryContext, modelName: string): Promise<Evaluation[]> {
  const model = await getModel(ctx, modelName)
  const rows = await ctx.db.selectFrom('evaluations').selectAll().where('model', '=', model.name)
    .orderBy('started_at', 'desc').orderBy('id', 'desc').execute()
  return await Promise.all(rows.map(async (row) => toEvaluation(row, model, await figuresOf(ctx, row))))
}

/** One evaluation; EvaluationNotFoundError when the model has none with that id. */
export async function getEvaluation (ctx: RegistryContext, modelName: string, id: string): Promise<Evaluation> {
  const model = await getModel(ctx, modelName)
  const row = await ctx.db.selectFrom('evaluations').selectAll().where('model', '=', model.name).where('id', '=', id).executeTakeFirst()
  if (row === undefined) throw new EvaluationNotFoundError(`model ${model.name} has no evaluation ${id}`)
  return toEvaluation(row, model, await figuresOf(ctx, row))
}

/**
 * The newest succeeded evaluation of `candidate` against `baseline` (the one a promotion policy judges); null when
 * there is none.
 */
export async function newestSucceededEvaluation (ctx: RegistryContext, model: string, candidate: number, baseline: number): Promise<VouchingEvaluation | null> {
  const row = await ctx.db.selectFrom('evaluations').selectAll()
    .where('model', '=', model).where('candidate', '=', candidate).where('baseline', '=', baseline).where('status', '=', 'succeeded')
    .orderBy('finished_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst()
  if (row === undefined || row.finished_at === null || row.figures === null) return null
  return { id: row.id, finishedAt: row.finished_at, figures: JSON.parse(row.figures) as StoredFigures, inputCount: row.input_count }
}

/** The answers recorded for an evaluation's inputs, in input order. */
export async function recordedAnswers (ctx: RegistryContext, id: string): Promise<InputAnswers[]> {
  const rows = await ctx.db.selectFrom('evaluation_inputs').select(['baseline_answer', 'candidate_answer'])
    .where('evaluation', '=', id).orderBy('position').execute()
  return rows.map((row) => ({ baseline: parseAnswer(row.baseline_answer), candidate: parseAnswer(row.candidate_answer) }))
}

/** The comparison of `answers` and how many inputs both sides completed. */
export function storedFiguresOf (answers: readonly InputAnswers[]): StoredFigures {
  return { ...compareAnswers(answers), completed: answers.filter((a) => a.baseline !== null && a.candidate !== null).length }
}

/** The figures of an evaluation: stored once it ended, computed from the answers so far while it runs. */
async function figuresOf (ctx: RegistryContext, row: EvaluationRow): Promise<StoredFigures> {
  if (row.figures !== null) return JSON.parse(row.figures) as StoredFigures
  return storedFiguresOf(await recordedAnswers(ctx, row.id))
}

function parseAnswer (text: string | null): SideAnswer | null {
  return text === null ? null : JSON.parse(text) as SideAnswer
}

function toEvaluation (row: EvaluationRow, model: Model, figures: StoredFigures): Evaluation {
  const status = row.status as EvaluationStatus
  const { completed, agreement, errors, latencyMs, changes } = figures
  return {
    id: row.id,
    model: row.model,
    candidate: row.candidate,
    baseline: row.baseline,
    status,
    failure: row.failure,
    reason: row.reason,
    actor: row.actor,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    inputs: { bucket: row.input_bucket, prefix: row.input_prefix, count: row.input_count },
    completed,
    agreement,
    errors,
    latencyMs,
    changes,
    verdict: status !== 'succeeded' || model.promotionPolicy === null ? null : verdictOf(model.promotionPolicy, figures, row.input_count),
  }
}

/** An evaluation invokes the model's function: a registry-only model, or a registry without a deployer, cannot. */
function requireFunction (ctx: RegistryContext, model: Model): void {
  if (model.functionName === null) throw new NotDeployedError(`model ${model.name} has no functionName: there is no function to evaluate with`)
  requireDeployer(ctx, model)
}
