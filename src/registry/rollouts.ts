import { randomUUID } from 'node:crypto'
import {
  DEFAULT_MIN_INVOCATIONS, isCanaryWeight, MAX_ROLLOUT_STEP_SECONDS, MAX_ROLLOUT_STEPS, MIN_ROLLOUT_STEP_SECONDS,
} from '../contract/limits.js'
import { abortCanary, startCanary } from './alias-moves.js'
import { timestamp, type RegistryContext } from './context.js'
import {
  AliasNotFoundError, CanaryInProgressError, InvalidInputError, NoCanaryError, NotDeployedError, RolloutFinishedError, RolloutNotFoundError,
} from './errors.js'
import { deployTarget } from './lambda-sync.js'
import type { Rollout, RolloutCriteria } from './model.js'
import { getModel } from './models.js'
import { finishRollout, refuseDuringRollout, runningRollout, toRollout } from './rollout-store.js'
import { checkActor, checkName, checkObject, type MoveInput } from './validation.js'

/** What starting a rollout takes (DESIGN.md "Rollouts"). */
export interface RolloutInput extends MoveInput {
  release: number
  steps: number[]
  stepSeconds: number
  criteria?: Partial<RolloutCriteria> | undefined
}

/**
 * Starts a rollout of `release` on the model's deploy alias: its first step, a canary at the first weight, runs
 * now, through the same move as any canary start (policy, warm-up, gate, locks, history), and the rollout is stored
 * in the transaction that commits that move, so a first step that fails stores no rollout. The controller
 * (rollout-controller.ts) takes it from there.
 */
export async function startRollout (ctx: RegistryContext, model: string, alias: string, input: RolloutInput, actor: string): Promise<Rollout> {
  checkActor(actor)
  const found = await getModel(ctx, model)
  checkName('alias', alias)
  checkObject(input, 'the request body')
  const steps = checkSteps(input.steps)
  const stepSeconds = checkStepSeconds(ctx, input.stepSeconds)
  const criteria = checkCriteria(input.criteria)
  if (alias !== found.deployAlias) throw new InvalidInputError(`a rollout moves the deploy alias of model ${model} (${found.deployAlias}), not ${alias}`)
  if (deployTarget(found, alias) === null) throw new NotDeployedError(`model ${model} has no Lambda function: a rollout judges Lambda's metrics`)
  if (ctx.rollouts.metrics === undefined) throw new NotDeployedError('this API process has no metrics source for rollouts')
  // refused early for a clear answer; checked again under the alias's lock, where it counts
  await refuseDuringRollout(ctx, model, alias)

  const id = randomUUID()
  let stable = 0
  await startCanary(ctx, model, alias, { release: input.release, weight: steps[0]!, reason: input.reason, ifMatch: input.ifMatch, force: input.force }, actor, {
    rolloutId: id,
    check: async (claimed) => {
      if (claimed.canary !== null) {
        throw new CanaryInProgressError(`alias ${alias} runs a canary of release ${claimed.canary.release} already: promote or abort it first`)
      }
      stable = claimed.release ?? 0
    },
    onCommit: async (trx) => {
      const now = timestamp(ctx)
      await trx.insertInto('rollouts').values({
        id,
        model,
        alias,
        release: input.release,
        stable_release: stable,
        status: 'running',
        failure: null,
        steps: JSON.stringify(steps),
        current_step: 0,
        step_seconds: stepSeconds,
        criteria: JSON.stringify(criteria),
        started_at: now,
        step_started_at: now,
        step_lengths: 1,
        finished_at: null,
        actor,
        reason: input.reason ?? null,
        lease_token: null,
        lease_owner: null,
        lease_expires_at: null,
      }).execute()
    },
  })
  return await getRollout(ctx, model, alias, id)
}

/** The rollouts of an alias, newest first. */
export async function listRollouts (ctx: RegistryContext, model: string, alias: string): Promise<Rollout[]> {
  await getModel(ctx, model)
  checkName('alias', alias)
  // as the history does: an alias that never existed is 404, not an empty list
  const exists = await ctx.db.selectFrom('aliases').select('name').where('model', '=', model).where('name', '=', alias).executeTakeFirst()
  if (exists === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
  const rows = await ctx.db.selectFrom('rollouts').selectAll()
    .where('model', '=', model).where('alias', '=', alias)
    .orderBy('started_at', 'desc').orderBy('id', 'desc').execute()
  return await Promise.all(rows.map(async (row) => await toRollout(ctx.db, row)))
}

/** One rollout; RolloutNotFoundError when the alias has none of that id. */
export async function getRollout (ctx: RegistryContext, model: string, alias: string, id: string): Promise<Rollout> {
  await getModel(ctx, model)
  checkName('alias', alias)
  const row = await ctx.db.selectFrom('rollouts').selectAll()
    .where('id', '=', id).where('model', '=', model).where('alias', '=', alias).executeTakeFirst()
  if (row === undefined) throw new RolloutNotFoundError(`alias ${alias} of model ${model} has no rollout ${id}`)
  return await toRollout(ctx.db, row)
}

/**
 * Cancels a running rollout: its canary is aborted (a `canary-abort` entry with the caller as actor) and the rollout
 * ends `cancelled` in the same transaction. RolloutFinishedError when it has ended already.
 */
export async function cancelRollout (ctx: RegistryContext, model: string, alias: string, id: string, input: MoveInput, actor: string): Promise<Rollout> {
  const rollout = await getRollout(ctx, model, alias, id)
  if (rollout.status !== 'running') throw new RolloutFinishedError(`rollout ${id} ended ${rollout.status} already`)
  try {
    await abortCanary(ctx, model, alias, { reason: input.reason ?? `rollout ${id} cancelled`, ifMatch: input.ifMatch }, actor, {
      rolloutId: id,
      check: async () => {
        if ((await runningRollout(ctx.db, model, alias))?.id !== id) throw new RolloutFinishedError(`rollout ${id} has just ended`)
      },
      onCommit: async (trx) => { await finishRollout(trx, id, 'cancelled', timestamp(ctx)) },
    })
  } catch (error) {
    if (!(error instanceof NoCanaryError)) throw error
    // no canary left to abort (removed by a move a reconcile settled): the rollout only ends
    await finishRollout(ctx.db, id, 'cancelled', timestamp(ctx))
  }
  ctx.observer?.rolloutFinished?.('cancelled')
  return await getRollout(ctx, model, alias, id)
}

function checkSteps (steps: unknown): number[] {
  if (!Array.isArray(steps) || steps.length < 1 || steps.length > MAX_ROLLOUT_STEPS || !steps.every(isCanaryWeight)) {
    throw new InvalidInputError(`steps must be 1 to ${MAX_ROLLOUT_STEPS} canary weights, each between 0 and 1 (exclusive)`)
  }
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]! <= steps[i - 1]!) throw new InvalidInputError(`steps must increase: ${steps[i]!} follows ${steps[i - 1]!}`)
  }
  return steps
}

function checkStepSeconds (ctx: RegistryContext, stepSeconds: unknown): number {
  if (!Number.isInteger(stepSeconds) || (stepSeconds as number) < MIN_ROLLOUT_STEP_SECONDS || (stepSeconds as number) > MAX_ROLLOUT_STEP_SECONDS) {
    throw new InvalidInputError(`stepSeconds must be an integer from ${MIN_ROLLOUT_STEP_SECONDS} to ${MAX_ROLLOUT_STEP_SECONDS}`)
  }
  if ((stepSeconds as number) < ctx.rollouts.periodSeconds) {
    throw new InvalidInputError(`stepSeconds must be at least the metrics period (${ctx.rollouts.periodSeconds} s): a shorter step has no metrics of its own`)
  }
  return stepSeconds as number
}

function checkCriteria (criteria: unknown): RolloutCriteria {
  if (criteria === undefined || criteria === null) return { maxErrorRate: null, maxLatencyRatio: null, minInvocations: DEFAULT_MIN_INVOCATIONS }
  checkObject(criteria, 'criteria')
  const { maxErrorRate, maxLatencyRatio, minInvocations } = criteria as Record<string, unknown>
  if (maxErrorRate !== undefined && maxErrorRate !== null && (typeof maxErrorRate !== 'number' || maxErrorRate < 0 || maxErrorRate > 1)) {
    throw new InvalidInputError('criteria.maxErrorRate must be a number from 0 to 1')
  }
  if (maxLatencyRatio !== undefined && maxLatencyRatio !== null && (typeof maxLatencyRatio !== 'number' || !(maxLatencyRatio > 0) || !Number.isFinite(maxLatencyRatio))) {
    throw new InvalidInputError('criteria.maxLatencyRatio must be a positive number')
  }
  if (minInvocations !== undefined && minInvocations !== null && (!Number.isInteger(minInvocations) || (minInvocations as number) < 1 || (minInvocations as number) > 1_000_000)) {
    throw new InvalidInputError('criteria.minInvocations must be an integer from 1 to 1000000')
  }
  return {
    maxErrorRate: (maxErrorRate as number | null | undefined) ?? null,
    maxLatencyRatio: (maxLatencyRatio as number | null | undefined) ?? null,
    minInvocations: (minInvocations as number | null | undefined) ?? DEFAULT_MIN_INVOCATIONS,
  }
}
