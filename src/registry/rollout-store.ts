import type { Kysely, Selectable } from 'kysely'
import { redactAwsIdentifiers } from '../aws/aws-error-code.js'
import type { RegistryContext } from './context.js'
import type { RegistrySchema, RolloutsTable } from './db.js'
import { RolloutInProgressError } from './errors.js'
import type { Rollout, RolloutCriteria, RolloutObservation, RolloutStatus, StepFigures } from './model.js'

/** The rollouts' rows and the queries every part of a rollout shares (the service, the controller, the moves' guard). */

export type RolloutRow = Selectable<RolloutsTable>

/** The running rollout of an alias, if any. */
export async function runningRollout (db: Kysely<RegistrySchema>, model: string, alias: string): Promise<RolloutRow | undefined> {
  return await db.selectFrom('rollouts').selectAll()
    .where('model', '=', model).where('alias', '=', alias).where('status', '=', 'running')
    .executeTakeFirst()
}

/**
 * Refuses a move of an alias while a rollout runs on it, unless the move is that rollout's own (`own`). Called while
 * the alias's lock is held, so no rollout can start or step between this check and the move's commit.
 */
export async function refuseDuringRollout (ctx: RegistryContext, model: string, alias: string, own?: string): Promise<void> {
  const running = await runningRollout(ctx.db, model, alias)
  if (running !== undefined && running.id !== own) {
    throw new RolloutInProgressError(`rollout ${running.id} of release ${running.release} runs on alias ${alias}: cancel it (or roll back) first`)
  }
}

/** Ends a running rollout in the caller's transaction; false when it had ended already. */
export async function finishRollout (
  db: Kysely<RegistrySchema>, id: string, status: Exclude<RolloutStatus, 'running'>, at: string, failure: string | null = null
): Promise<boolean> {
  const result = await db.updateTable('rollouts')
    // a failure may quote AWS (a move's or CloudWatch's error): no ARN or account ID leaves the log
    .set({ status, failure: failure === null ? null : redactAwsIdentifiers(failure), finished_at: at, lease_token: null, lease_owner: null, lease_expires_at: null })
    .where('id', '=', id).where('status', '=', 'running')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Appends one verdict to a rollout, made at `at`. */
export async function recordObservation (db: Kysely<RegistrySchema>, id: string, observation: RolloutObservation, at: string): Promise<void> {
  const { step, weight, ...figures } = observation
  await db.insertInto('rollout_observations').values({ rollout_id: id, step, weight, at, figures: JSON.stringify(figures) }).execute()
}

/** A rollout as the API shows it, with its observations in the order they were made. */
export async function toRollout (db: Kysely<RegistrySchema>, row: RolloutRow): Promise<Rollout> {
  const observations = await db.selectFrom('rollout_observations').selectAll()
    .where('rollout_id', '=', row.id).orderBy('id', 'asc').execute()
  return {
    id: row.id,
    model: row.model,
    alias: row.alias,
    release: row.release,
    stableRelease: row.stable_release,
    status: row.status as RolloutStatus,
    failure: row.failure,
    steps: JSON.parse(row.steps) as number[],
    currentStep: row.current_step,
    stepSeconds: row.step_seconds,
    criteria: JSON.parse(row.criteria) as RolloutCriteria,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    actor: row.actor,
    reason: row.reason,
    observations: observations.map((o) => {
      const figures = JSON.parse(o.figures) as { candidate: StepFigures, stable: StepFigures, passed: boolean, violations: string[] }
      return { step: o.step, weight: o.weight, ...figures }
    }),
  }
}
