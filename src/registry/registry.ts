import type { Readable } from 'node:stream'
import type { ModelPin } from '../contract/pin.js'
import * as aliasMoves from './alias-moves.js'
import * as aliases from './aliases.js'
import * as artifacts from './artifacts.js'
import { createContext, type RegistryContext, type RegistryOptions } from './context.js'
import { sharedFunctionAliases, type SharedFunctionAlias } from './function-alias-owners.js'
import * as histories from './history.js'
import type {
  Alias, AliasView, ArtifactKind, ArtifactVersion, HistoryEntry, Model, ModelInput, ModelPatch, Release, Rollout,
} from './model.js'
import { EvaluationRunner } from './evaluation-runner.js'
import * as evaluations from './evaluations.js'
import type { Evaluation, EvaluationInput } from './evaluations.js'
import * as models from './models.js'
import { predict } from './predict.js'
import { reconcile, type ReconcileOptions } from './reconcile.js'
import * as releases from './releases.js'
import { RolloutController } from './rollout-controller.js'
import * as rollouts from './rollouts.js'
import type { MoveInput } from './validation.js'

export type { RegistryObserver, RegistryOptions } from './context.js'
export type { Evaluation, EvaluationInput } from './evaluations.js'
export type { EvaluationSettings } from './evaluation-runner.js'
export { checkPromotionPolicy, type PolicyCheck } from './promotion-policy.js'
export type { StepMetrics, StepMetricsQuery } from './rollout-metrics.js'
export type { RolloutInput } from './rollouts.js'
export type { SharedFunctionAlias } from './function-alias-owners.js'
/** True when `name` is a valid model or alias name (the rule lives in src/contract). */
export { isValidName } from '../contract/rules.js'

/**
 * The registry: models, their artifacts in S3, numbered releases, aliases and their history. A facade over the
 * modules beside it (one per concern; the alias moves are pure plans in move-plan.ts run by move-executor.ts):
 * callers see one object, the modules share one context.
 */
export class Registry {
  readonly #ctx: RegistryContext
  readonly #evaluations: EvaluationRunner
  readonly #rollouts: RolloutController

  constructor (options: RegistryOptions) {
    this.#ctx = createContext(options)
    this.#evaluations = new EvaluationRunner(this.#ctx, options.evaluation)
    this.#rollouts = new RolloutController(this.#ctx)
  }

  /** Registers a model at version 1; ModelExistsError when the name is taken, FunctionAliasTakenError when its Lambda alias is. */
  async createModel (input: ModelInput, actor: string): Promise<Model> {
    return await models.createModel(this.#ctx, input, actor)
  }

  /**
   * Changes a model's settings and bumps its version; its bucket and keys are fixed once it has releases. With
   * `ifMatch` a stale version is RevisionMismatchError; without it concurrent updates apply one after the other.
   */
  async updateModel (name: string, patch: ModelPatch, actor: string, options: { ifMatch?: number | undefined } = {}): Promise<Model> {
    return await models.updateModel(this.#ctx, name, patch, actor, options)
  }

  /** Lambda aliases that several models drive (registries from before one owner per alias): moves of all but the owner are refused. */
  async sharedFunctionAliases (): Promise<SharedFunctionAlias[]> {
    return await sharedFunctionAliases(this.#ctx)
  }

  /** Every registered model, by name. */
  async listModels (): Promise<Model[]> {
    return await models.listModels(this.#ctx)
  }

  /** One model; ModelNotFoundError when there is none of that name. */
  async getModel (name: string): Promise<Model> {
    return await models.getModel(this.#ctx, name)
  }

  /** The S3 versions of a model's weights or labels, newest first, with the sha256 the registry recorded. */
  async listArtifactVersions (model: string, kind: ArtifactKind, page: { limit: number, cursor?: string | undefined }): Promise<{ versions: ArtifactVersion[], nextCursor: string | null }> {
    return await artifacts.listArtifactVersions(this.#ctx, model, kind, page)
  }

  /** Streams `body` to S3 as one new version of the model's weights or labels, in constant memory. */
  async uploadArtifact (model: string, kind: ArtifactKind, body: Readable, options: { contentType?: string | undefined } = {}): Promise<{ versionId: string, size: number, sha256: string }> {
    return await artifacts.uploadArtifact(this.#ctx, model, kind, body, options)
  }

  /** Registers the next release of `model` from a weights and a labels version, both of which must exist in S3. */
  async createRelease (model: string, input: { weightsVersionId: string, labelsVersionId: string, notes?: string | null | undefined }, actor: string): Promise<Release> {
    return await releases.createRelease(this.#ctx, model, input, actor)
  }

  /** The releases of `model`, oldest first. */
  async listReleases (model: string): Promise<Release[]> {
    return await releases.listReleases(this.#ctx, model)
  }

  /** One release; ReleaseNotFoundError when `model` has no release `number`. */
  async getRelease (model: string, number: number): Promise<Release> {
    return await releases.getRelease(this.#ctx, model, number)
  }

  /** The pin that makes the function load exactly `release`'s weights and labels. */
  pinOf (model: Model, release: Release): ModelPin {
    return releases.pinOf(model, release)
  }

  /** The aliases of `model` that serve a release, by name. */
  async listAliases (model: string): Promise<Alias[]> {
    return await aliases.listAliases(this.#ctx, model)
  }

  /** Every alias of `model` that serves a release, by name, each read as `getAlias` reads it. */
  async listAliasViews (model: string): Promise<AliasView[]> {
    return await aliases.listAliasViews(this.#ctx, model)
  }

  /** One alias; for the deploy alias also what Lambda serves and whether it drifted. Reading changes nothing. */
  async getAlias (model: string, alias: string): Promise<AliasView> {
    return await aliases.getAlias(this.#ctx, model, alias)
  }

  /** Points `alias` at `release` (creating the alias at revision 1 if new) and, for the deploy alias, Lambda too. */
  async promote (model: string, alias: string, input: MoveInput & { release: number }, actor: string): Promise<Alias> {
    return await aliasMoves.promote(this.#ctx, model, alias, input, actor)
  }

  /** Moves `alias` back: to release `to`, or without it to the release it served before its last succeeded move. */
  async rollback (model: string, alias: string, input: MoveInput & { to?: number | undefined }, actor: string): Promise<Alias> {
    return await aliasMoves.rollback(this.#ctx, model, alias, input, actor)
  }

  /** Sends `weight` (between 0 and 1) of the alias's traffic to `release`; the alias keeps its release. */
  async startCanary (model: string, alias: string, input: MoveInput & { release: number, weight: number }, actor: string): Promise<Alias> {
    return await aliasMoves.startCanary(this.#ctx, model, alias, input, actor)
  }

  /** Makes the canary's release the whole alias. */
  async promoteCanary (model: string, alias: string, input: MoveInput, actor: string): Promise<Alias> {
    return await aliasMoves.promoteCanary(this.#ctx, model, alias, input, actor)
  }

  /** Sends all of the alias's traffic back to its release. */
  async abortCanary (model: string, alias: string, input: MoveInput, actor: string): Promise<Alias> {
    return await aliasMoves.abortCanary(this.#ctx, model, alias, input, actor)
  }

  /** The alias's history, newest first (failed and rejected attempts included). */
  async history (model: string, alias: string, options: { limit?: number | undefined } = {}): Promise<HistoryEntry[]> {
    return await histories.history(this.#ctx, model, alias, options)
  }

  /** Classifies `image` with one release (named, or an alias's; default the deploy alias); nothing moves. */
  async predict (model: string, input: { image: unknown, release?: number | undefined, alias?: string | undefined, topK?: number | undefined }): Promise<unknown> {
    return await predict(this.#ctx, model, input)
  }

  /**
   * Run at start-up and periodically: settles moves whose process stopped renewing their lock, and adopts what
   * Lambda serves where it drifted from the registry with no move in flight.
   */
  async reconcile (actor = 'modelpin', options: ReconcileOptions = {}): Promise<void> {
    await reconcile(this.#ctx, actor, options)
  }

  /**
   * Records an evaluation of a candidate release against a baseline on the most recent objects of a bucket, and
   * runs it in the background on this process (see resumeEvaluations for the others); answers it `running`.
   */
  async createEvaluation (model: string, input: EvaluationInput, actor: string): Promise<Evaluation> {
    const created = await evaluations.createEvaluation(this.#ctx, model, input, actor)
    this.#evaluations.start(created.id)
    return created
  }

  /** The evaluations of `model`, newest first. */
  async listEvaluations (model: string): Promise<Evaluation[]> {
    return await evaluations.listEvaluations(this.#ctx, model)
  }

  /** One evaluation; EvaluationNotFoundError when `model` has none with that id. */
  async getEvaluation (model: string, id: string): Promise<Evaluation> {
    return await evaluations.getEvaluation(this.#ctx, model, id)
  }

  /**
   * Run at start-up and periodically: runs every evaluation left running whose lease is free or expired (with
   * `anyHolder`, every one: a sole process at start-up knows their holders are dead).
   */
  async resumeEvaluations (options: { anyHolder?: boolean } = {}): Promise<void> {
    await this.#evaluations.resume(options)
  }

  /** Ends this process's evaluation runs and gives their leases back, so that another process resumes them. */
  async stopEvaluations (): Promise<void> {
    await this.#evaluations.stop()
  }

  /** Resolves once this process runs no evaluation. */
  async evaluationsIdle (): Promise<void> {
    await this.#evaluations.idle()
  }

  /** Starts a rollout of a release on the deploy alias: its first step (a canary start) runs before this returns. */
  async startRollout (model: string, alias: string, input: rollouts.RolloutInput, actor: string): Promise<Rollout> {
    return await rollouts.startRollout(this.#ctx, model, alias, input, actor)
  }

  /** The rollouts of an alias, newest first. */
  async listRollouts (model: string, alias: string): Promise<Rollout[]> {
    return await rollouts.listRollouts(this.#ctx, model, alias)
  }

  /** One rollout with its observations; RolloutNotFoundError when there is none of that id. */
  async getRollout (model: string, alias: string, id: string): Promise<Rollout> {
    return await rollouts.getRollout(this.#ctx, model, alias, id)
  }

  /** Cancels a running rollout: its canary is aborted with `actor` as the actor. */
  async cancelRollout (model: string, alias: string, id: string, input: MoveInput, actor: string): Promise<Rollout> {
    return await rollouts.cancelRollout(this.#ctx, model, alias, id, input, actor)
  }

  /** One pass of the rollout controller: leases taken or renewed, due steps judged and moved (in the background). */
  async driveRollouts (): Promise<void> {
    await this.#rollouts.tick()
  }

  /** Lets the rollouts' decisions in flight finish, then gives their leases back. */
  async stopDrivingRollouts (): Promise<void> {
    await this.#rollouts.stop()
  }

  /** For /metrics: rollouts by status, and the canary weight of every alias (0 without a canary). */
  async rolloutGauges (): Promise<{ byStatus: Array<{ status: string, count: number }>, canaryWeights: Array<{ model: string, alias: string, weight: number }> }> {
    const byStatus = await this.#ctx.db.selectFrom('rollouts').select(['status', (eb) => eb.fn.countAll<number>().as('count')]).groupBy('status').execute()
    const aliases = await this.#ctx.db.selectFrom('aliases').select(['model', 'name', 'canary_weight']).where('release', 'is not', null).execute()
    return {
      byStatus: byStatus.map((row) => ({ status: row.status, count: Number(row.count) })),
      canaryWeights: aliases.map((row) => ({ model: row.model, alias: row.name, weight: row.canary_weight ?? 0 })),
    }
  }

  /** How long an alias lock lives unrenewed before it can be taken over. */
  get lockTtlMs (): number {
    return this.#ctx.locks.ttlMs
  }
}
