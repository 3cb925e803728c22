import type { Readable } from 'node:stream'
import type { Kysely, Selectable } from 'kysely'
import { pino, type Logger } from 'pino'
import type { ModelPin } from '../contract/pin.js'
import { AliasLocks, type AliasLock, type AliasRow } from './alias-locks.js'
import { versionNotFound, type ArtifactStore } from './artifact-store.js'
import { isUniqueViolation, type AliasHistoryTable, type ModelsTable, type RegistrySchema, type ReleasesTable } from './db.js'
import { DeployStepError, type Deployer, type DeployTarget, type LiveAlias } from './deployer.js'
import {
  AliasBusyError, AliasNotFoundError, DeployFailedError, GateRejectedError, InvalidInputError, ModelExistsError,
  ModelNotFoundError, NoCanaryError, NotDeployedError, PredictionFailedError, ReleaseNotFoundError, UnknownReleaseError,
} from './errors.js'
import {
  ARTIFACT_KINDS, type Alias, type AliasView, type ArtifactKind, type ArtifactVersion, type HistoryAction,
  type HistoryEntry, type HistoryOutcome, type LiveView, type Model, type ModelInput, type ModelPatch, type Release,
  type S3Location,
} from './model.js'

export interface RegistryOptions {
  db: Kysely<RegistrySchema>
  store: ArtifactStore
  /** pushes the deploy alias of models with a `functionName` to Lambda; without it those moves are refused */
  deployer?: Deployer | undefined
  logger?: Logger | undefined
  /** how long one alias move may take before its lock counts as abandoned */
  lockTtlMs?: number | undefined
  /**
   * True when this process is the only one that moves aliases in this database (SQLite; PostgreSQL is for several
   * replicas): start-up then frees every lock, since only a process that stopped mid-move can have left one.
   */
  soleProcess?: boolean | undefined
}

/** Names of models and aliases: safe in URLs, S3 keys and Lambda descriptions. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/
/** Lambda alias names: letters, digits, `-` and `_`, not all digits. */
const FUNCTION_ALIAS_PATTERN = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/
/** A function name, or its full or partial ARN. */
const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_:.-]{1,170}$/
const BUCKET_PATTERN = /^[A-Za-z0-9._-]{3,255}$/
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/
const MAX_KEY_BYTES = 1024
const MAX_GATE_IMAGES = 20
const MAX_TEXT = 4000
const MAX_HISTORY_LIMIT = 1000
const DEFAULT_HISTORY_LIMIT = 100
const MAX_TOP_K = 1000
/** Release registrations that race retry their number this often before giving up (each retry means another won). */
const MAX_NUMBER_ATTEMPTS = 100

/** Moves that change which release an alias serves (what a rollback without `to` looks back through). */
const RELEASE_MOVES: HistoryAction[] = ['promote', 'rollback', 'canary-promote', 'reconcile']

/** What an alias serves after a move. */
interface AliasState {
  release: number
  canary: { release: number, weight: number } | null
}

/** One planned move: computed while the alias's lock is held, so nothing else changes it meanwhile. */
interface MovePlan {
  state: AliasState
  fromRelease: number | null
  toRelease: number | null
  /** the release the promotion gate must pass (the new candidate), if any */
  gate: number | null
  detail?: string
}

type ReleaseRow = Selectable<ReleasesTable>

/**
 * The registry: models, their artifacts in S3, numbered releases, aliases and their history. Every domain rule
 * (validation, numbering, alias moves, rollback, canary, the promotion gate, reconciling with Lambda) lives here.
 */
export class Registry {
  readonly #db: Kysely<RegistrySchema>
  readonly #store: ArtifactStore
  readonly #deployer: Deployer | undefined
  readonly #logger: Logger
  readonly #locks: AliasLocks
  readonly #soleProcess: boolean

  constructor (options: RegistryOptions) {
    this.#db = options.db
    this.#store = options.store
    this.#deployer = options.deployer
    this.#logger = options.logger ?? pino({ enabled: false })
    this.#locks = new AliasLocks(options.db, { ttlMs: options.lockTtlMs })
    this.#soleProcess = options.soleProcess ?? false
  }

  // ---- models ----

  /** Registers a model; ModelExistsError when the name is taken. */
  async createModel (input: ModelInput, actor: string): Promise<Model> {
    checkActor(actor)
    checkName('name', input?.name)
    const now = new Date().toISOString()
    const row: ModelsTable = {
      name: input.name,
      ...modelColumns({
        bucket: input.bucket,
        weightsKey: input.weightsKey,
        labelsKey: input.labelsKey,
        functionName: input.functionName ?? null,
        functionAlias: input.functionAlias ?? 'live',
        deployAlias: input.deployAlias ?? 'production',
        gateImages: input.gateImages ?? [],
      }),
      created_at: now,
      updated_at: now,
    }
    try {
      await this.#db.insertInto('models').values(row).execute()
    } catch (error) {
      if (isUniqueViolation(error)) throw new ModelExistsError(`model ${input.name} exists already`, { cause: error })
      throw error
    }
    this.#logger.info({ model: input.name, actor }, 'model registered')
    return toModel(row)
  }

  /** Changes a model's settings; its bucket and keys are fixed once it has releases (their pins name them). */
  async updateModel (name: string, patch: ModelPatch, actor: string): Promise<Model> {
    checkActor(actor)
    const current = await this.getModel(name)
    if (patch === null || typeof patch !== 'object') throw new InvalidInputError('the patch must be an object')
    const merged = {
      bucket: patch.bucket ?? current.bucket,
      weightsKey: patch.weightsKey ?? current.weightsKey,
      labelsKey: patch.labelsKey ?? current.labelsKey,
      functionName: patch.functionName === undefined ? current.functionName : patch.functionName,
      functionAlias: patch.functionAlias ?? current.functionAlias,
      deployAlias: patch.deployAlias ?? current.deployAlias,
      gateImages: patch.gateImages ?? current.gateImages,
    }
    const columns = modelColumns(merged)
    const moved = merged.bucket !== current.bucket || merged.weightsKey !== current.weightsKey || merged.labelsKey !== current.labelsKey
    if (moved && (await this.#releaseCount(name)) > 0) {
      throw new InvalidInputError(`bucket, weightsKey and labelsKey of model ${name} cannot change: its releases pin versions of those objects`)
    }
    const updatedAt = new Date().toISOString()
    await this.#db.updateTable('models').set({ ...columns, updated_at: updatedAt }).where('name', '=', name).execute()
    this.#logger.info({ model: name, actor, fields: Object.keys(patch) }, 'model updated')
    return toModel({ name, ...columns, created_at: current.createdAt, updated_at: updatedAt })
  }

  /** Every registered model, by name. */
  async listModels (): Promise<Model[]> {
    const rows = await this.#db.selectFrom('models').selectAll().orderBy('name').execute()
    return rows.map(toModel)
  }

  /** One model; ModelNotFoundError when there is none of that name. */
  async getModel (name: string): Promise<Model> {
    checkName('model', name)
    const row = await this.#db.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst()
    if (row === undefined) throw new ModelNotFoundError(`there is no model ${name}`)
    return toModel(row)
  }

  // ---- artifacts ----

  /**
   * The S3 versions of a model's weights or labels, newest first: one S3 listing request and one query for the
   * digests the registry recorded (uploads, registered releases); sha256 is null for any other version.
   */
  async listArtifactVersions (model: string, kind: ArtifactKind, page: { limit: number, cursor?: string | undefined }): Promise<{ versions: ArtifactVersion[], nextCursor: string | null }> {
    const found = await this.getModel(model)
    const loc = artifactLocation(found, checkKind(kind))
    const listed = await this.#store.listVersions(loc, page)
    const known = await this.#recordedDigests(loc, listed.versions.filter((v) => !v.deleteMarker).map((v) => v.versionId))
    for (const version of listed.versions) version.sha256 = version.deleteMarker ? null : known.get(version.versionId) ?? null
    return listed
  }

  /** Streams `body` to S3 as one new version of the model's weights or labels, in constant memory. */
  async uploadArtifact (model: string, kind: ArtifactKind, body: Readable, options: { contentType?: string | undefined } = {}): Promise<{ versionId: string, size: number, sha256: string }> {
    const found = await this.getModel(model)
    const loc = artifactLocation(found, checkKind(kind))
    const uploaded = await this.#store.upload(loc, body, { contentType: options.contentType })
    this.#logger.info({ model, kind, versionId: uploaded.versionId, size: uploaded.size, sha256: uploaded.sha256 }, 'artifact uploaded')
    try {
      await this.#recordDigest(loc, uploaded.versionId, uploaded)
    } catch (error) {
      // The version exists in S3 (with its sha256 metadata) whatever happens here: failing the request would make
      // the client upload it again as another version. Unrecorded, it lists without a digest until a release reads it.
      this.#logger.warn({ err: error, model, kind, versionId: uploaded.versionId }, 'the uploaded version\'s digest could not be recorded')
    }
    return uploaded
  }

  // ---- releases ----

  /**
   * Registers the next release of `model` from a weights and a labels version, both of which must exist in S3.
   * Their sizes and sha256s are recorded (from metadata, or computed by reading the version). Numbers run 1, 2, ...
   * per model without gaps or duplicates, also when registrations race.
   */
  async createRelease (model: string, input: { weightsVersionId: string, labelsVersionId: string, notes?: string | null | undefined }, actor: string): Promise<Release> {
    checkActor(actor)
    const found = await this.getModel(model)
    if (input === null || typeof input !== 'object') throw new InvalidInputError('the release must be an object')
    checkVersionId('weightsVersionId', input.weightsVersionId)
    checkVersionId('labelsVersionId', input.labelsVersionId)
    const notes = optionalText('notes', input.notes)
    const [weights, labels] = await Promise.all([
      this.#artifactFacts(artifactLocation(found, 'weights'), input.weightsVersionId, 'weightsVersionId'),
      this.#artifactFacts(artifactLocation(found, 'labels'), input.labelsVersionId, 'labelsVersionId'),
    ])
    for (let attempt = 1; ; attempt++) {
      const { last } = await this.#db.selectFrom('releases')
        .select((eb) => eb.fn.max('number').as('last'))
        .where('model', '=', model)
        .executeTakeFirstOrThrow()
      const row: ReleaseRow = {
        model,
        number: Number(last ?? 0) + 1,
        weights_version_id: input.weightsVersionId,
        labels_version_id: input.labelsVersionId,
        weights_sha256: weights.sha256,
        labels_sha256: labels.sha256,
        weights_size: weights.size,
        labels_size: labels.size,
        notes,
        created_at: new Date().toISOString(),
        created_by: actor,
      }
      try {
        // (model, number) is the primary key: of two registrations that read the same last number, one inserts
        // and the other retries with the next, so numbers never repeat and no number is skipped
        await this.#db.insertInto('releases').values(row).execute()
        this.#logger.info({ model, release: row.number, weightsVersionId: row.weights_version_id, labelsVersionId: row.labels_version_id, actor }, 'release registered')
        return toRelease(row)
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= MAX_NUMBER_ATTEMPTS) throw error
      }
    }
  }

  /** The releases of `model`, oldest first. */
  async listReleases (model: string): Promise<Release[]> {
    await this.getModel(model)
    const rows = await this.#db.selectFrom('releases').selectAll().where('model', '=', model).orderBy('number').execute()
    return rows.map(toRelease)
  }

  /** One release; ReleaseNotFoundError when `model` has no release `number`. */
  async getRelease (model: string, number: number): Promise<Release> {
    await this.getModel(model)
    const row = await this.#releaseRow(model, number)
    if (row === undefined) throw new ReleaseNotFoundError(`model ${model} has no release ${String(number)}`)
    return toRelease(row)
  }

  /** The pin that makes the function load exactly `release`'s weights and labels. */
  pinOf (model: Model, release: Release): ModelPin {
    return {
      bucket: model.bucket,
      weightsKey: model.weightsKey,
      weightsVersionId: release.weightsVersionId,
      weightsSha256: release.weightsSha256,
      labelsKey: model.labelsKey,
      labelsVersionId: release.labelsVersionId,
      labelsSha256: release.labelsSha256,
    }
  }

  // ---- aliases ----

  /** The aliases of `model` that serve a release, by name. */
  async listAliases (model: string): Promise<Alias[]> {
    await this.getModel(model)
    const rows = await this.#db.selectFrom('aliases').selectAll().where('model', '=', model)
      .where('release', 'is not', null).orderBy('name').execute()
    return rows.map(toAlias)
  }

  /**
   * One alias. For the deploy alias of a model with a function it also reports what Lambda serves and whether that
   * differs from the registry (`drift`); reading never changes anything.
   */
  async getAlias (model: string, alias: string): Promise<AliasView> {
    const found = await this.getModel(model)
    checkName('alias', alias)
    const row = await this.#aliasRow(model, alias)
    if (row?.release === null || row === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
    const view: AliasView = { ...toAlias(row), live: null, drift: false }
    const target = this.#deployTarget(found, alias)
    if (target === null || this.#deployer === undefined) return view
    try {
      const live = await this.#readLive(found, target)
      view.live = live.view
      view.drift = !sameServing(row, live.alias)
    } catch (error) {
      view.liveError = messageOf(error)
    }
    return view
  }

  /** Points `alias` at `release` (creating the alias at revision 1 if new) and, for the deploy alias, Lambda too. */
  async promote (model: string, alias: string, input: { release: number, reason?: string | null | undefined, ifMatch?: number | undefined }, actor: string): Promise<Alias> {
    const found = await this.#prepareMove(model, alias, input, actor)
    const release = await this.#releaseNamedInBody(model, input.release, 'release')
    return await this.#move(found, alias, 'promote', actor, input, { create: true }, (row) => ({
      state: { release: release.number, canary: null },
      fromRelease: row.release,
      toRelease: release.number,
      gate: release.number,
    }))
  }

  /**
   * Moves `alias` back: to release `to`, or without it to the release it served before its last succeeded move
   * (so two rollbacks toggle). For the deploy alias Lambda's alias returns to the version already published.
   */
  async rollback (model: string, alias: string, input: { to?: number | undefined, reason?: string | null | undefined, ifMatch?: number | undefined }, actor: string): Promise<Alias> {
    const found = await this.#prepareMove(model, alias, input, actor)
    const named = input.to === undefined ? undefined : await this.#releaseNamedInBody(model, input.to, 'to')
    return await this.#move(found, alias, 'rollback', actor, input, {}, async (row) => {
      const current = servedRelease(row, model)
      const to = named?.number ?? await this.#releaseBeforeLastMove(model, alias)
      return { state: { release: to, canary: null }, fromRelease: current, toRelease: to, gate: to }
    })
  }

  /** Sends `weight` (between 0 and 1) of the alias's traffic to `release`; the alias keeps its release. */
  async startCanary (model: string, alias: string, input: { release: number, weight: number, reason?: string | null | undefined, ifMatch?: number | undefined }, actor: string): Promise<Alias> {
    const found = await this.#prepareMove(model, alias, input, actor)
    if (typeof input.weight !== 'number' || !(input.weight > 0 && input.weight < 1)) {
      throw new InvalidInputError('weight must be a number between 0 and 1 (exclusive)')
    }
    const candidate = await this.#releaseNamedInBody(model, input.release, 'release')
    return await this.#move(found, alias, 'canary-start', actor, input, {}, (row) => {
      const current = servedRelease(row, model)
      if (candidate.number === current) {
        throw new InvalidInputError(`alias ${alias} serves release ${current} already: a canary needs another release`)
      }
      return {
        state: { release: current, canary: { release: candidate.number, weight: input.weight } },
        fromRelease: current,
        toRelease: candidate.number,
        gate: candidate.number,
        detail: `weight ${input.weight} to release ${candidate.number}`,
      }
    })
  }

  /** Makes the canary's release the whole alias. */
  async promoteCanary (model: string, alias: string, input: { reason?: string | null | undefined, ifMatch?: number | undefined }, actor: string): Promise<Alias> {
    const found = await this.#prepareMove(model, alias, input, actor)
    return await this.#move(found, alias, 'canary-promote', actor, input, {}, (row) => {
      const current = servedRelease(row, model)
      if (row.canary_release === null) throw new NoCanaryError(`alias ${alias} runs no canary to promote`)
      return { state: { release: row.canary_release, canary: null }, fromRelease: current, toRelease: row.canary_release, gate: null }
    })
  }

  /** Sends all of the alias's traffic back to its release. */
  async abortCanary (model: string, alias: string, input: { reason?: string | null | undefined, ifMatch?: number | undefined }, actor: string): Promise<Alias> {
    const found = await this.#prepareMove(model, alias, input, actor)
    return await this.#move(found, alias, 'canary-abort', actor, input, {}, (row) => {
      const current = servedRelease(row, model)
      if (row.canary_release === null) throw new NoCanaryError(`alias ${alias} runs no canary to abort`)
      return {
        state: { release: current, canary: null },
        fromRelease: row.canary_release,
        toRelease: current,
        gate: null,
        detail: `weight ${row.canary_weight ?? 0} on release ${row.canary_release} removed`,
      }
    })
  }

  /** The alias's history, newest first (failed and rejected attempts included). */
  async history (model: string, alias: string, options: { limit?: number | undefined } = {}): Promise<HistoryEntry[]> {
    await this.getModel(model)
    checkName('alias', alias)
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_HISTORY_LIMIT) {
      throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`)
    }
    if (await this.#aliasRow(model, alias) === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
    const rows = await this.#db.selectFrom('alias_history').selectAll()
      .where('model', '=', model).where('alias', '=', alias)
      .orderBy('id', 'desc').limit(limit).execute()
    return rows.map(toHistoryEntry)
  }

  // ---- predictions ----

  /**
   * Classifies `image` with one release: the explicit `release`, else the release of `alias` (default the deploy
   * alias). The function is invoked with that release's pin in the event, so nothing moves.
   */
  async predict (model: string, input: { image: unknown, release?: number | undefined, alias?: string | undefined, topK?: number | undefined }): Promise<unknown> {
    const found = await this.getModel(model)
    if (input === null || typeof input !== 'object') throw new InvalidInputError('the prediction request must be an object')
    if (input.image === null || typeof input.image !== 'object') {
      throw new InvalidInputError('image must be {bucket, key, versionId?} or {base64}')
    }
    if (input.topK !== undefined && (!Number.isInteger(input.topK) || input.topK < 1 || input.topK > MAX_TOP_K)) {
      throw new InvalidInputError(`topK must be an integer from 1 to ${MAX_TOP_K}`)
    }
    if (input.release !== undefined && input.alias !== undefined) throw new InvalidInputError('give release or alias, not both')
    let release: ReleaseRow
    if (input.release !== undefined) {
      release = await this.#releaseNamedInBody(model, input.release, 'release')
    } else {
      const aliasName = input.alias ?? found.deployAlias
      checkName('alias', aliasName)
      const row = await this.#aliasRow(model, aliasName)
      if (row?.release === null || row === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${aliasName}`)
      release = await this.#releaseNamedInBody(model, row.release, 'alias')
    }
    if (found.functionName === null) throw new NotDeployedError(`model ${model} has no functionName to predict with`)
    const deployer = this.#requireDeployer(found)
    const target = { functionName: found.functionName, functionAlias: found.functionAlias }
    const event = { image: input.image, model: eventPin(toRelease(release)), topK: input.topK ?? 5 }
    let result
    try {
      result = await deployer.invoke(target, event)
    } catch (error) {
      if (error instanceof DeployStepError) throw new DeployFailedError(error.step, `Lambda failed at ${error.step}: ${error.message}`, { cause: error })
      throw error
    }
    if (result.functionError !== undefined) {
      const failure = functionFailure(result.payload, result.functionError)
      throw new PredictionFailedError(failure.errorType, failure.errorMessage)
    }
    return result.payload
  }

  // ---- start-up ----

  /**
   * Run at start-up: frees locks left by stopped processes, then, for each model with a function, adopts what
   * Lambda's alias serves when a recorded deployment maps it to a release other than the registry's (an interrupted
   * move) with a `reconcile` history entry. Drift that maps to no release is only logged.
   */
  async reconcile (actor = 'modelpin'): Promise<void> {
    // A move interrupted by a crash leaves its lock, which would keep the alias from being reconciled (and moved)
    // until it expires. Alone on the database, any lock is such a leftover; beside other replicas, a lock may belong
    // to a move in flight, so only expired ones are freed.
    const freed = this.#soleProcess ? await this.#locks.clearAll() : await this.#locks.clearExpired()
    if (freed > 0) this.#logger.warn({ aliases: freed }, 'freed alias locks left by stopped moves')
    if (this.#deployer === undefined) return
    for (const model of await this.listModels()) {
      const target = this.#deployTarget(model, model.deployAlias)
      if (target === null) continue
      try {
        await this.#reconcileAlias(model, target, actor)
      } catch (error) {
        this.#logger.warn({ model: model.name, alias: model.deployAlias, err: error }, 'could not reconcile the deploy alias with Lambda')
      }
    }
  }

  async #reconcileAlias (model: Model, target: DeployTarget, actor: string): Promise<void> {
    const alias = model.deployAlias
    let lock: AliasLock
    try {
      lock = await this.#locks.claim(model.name, alias)
    } catch (error) {
      if (error instanceof AliasNotFoundError) return // never promoted: nothing of the registry's to adopt into
      if (error instanceof AliasBusyError) {
        this.#logger.info({ model: model.name, alias }, 'a move is in flight; not reconciling this alias')
        return
      }
      throw error
    }
    try {
      const live = await this.#readLive(model, target)
      const row = lock.row
      if (sameServing(row, live.alias)) return
      const { view } = live
      if (view.release === null || (view.canary !== null && view.canary.release === null)) {
        this.#logger.warn({ model: model.name, alias, live: view, release: row.release }, 'Lambda serves a version no release maps to; left as it is')
        return
      }
      const state: AliasState = {
        release: view.release,
        canary: view.canary === null ? null : { release: view.canary.release!, weight: view.canary.weight },
      }
      const detail = `adopted Lambda's state: ${target.functionName}:${target.functionAlias} serves version ${view.functionVersion} (release ${view.release})` +
        (view.canary === null ? '' : ` and weight ${view.canary.weight} on version ${view.canary.functionVersion} (release ${view.canary.release!})`) +
        `; the registry had ${row.release === null ? 'no release' : `release ${row.release}`}` +
        (row.canary_release === null ? '' : ` with weight ${row.canary_weight ?? 0} on release ${row.canary_release}`)
      const moved = await this.#commit(lock, {
        action: 'reconcile',
        actor,
        reason: 'start-up reconcile with Lambda',
        fromRelease: row.release,
        toRelease: state.release,
        detail,
      }, state, { main: view.functionVersion, canary: view.canary?.functionVersion ?? null })
      this.#logger.warn({ model: model.name, alias, release: moved.release, revision: moved.revision, detail }, 'adopted what Lambda serves')
    } finally {
      await this.#locks.release(lock) // a no-op once the commit has cleared the lock
    }
  }

  // ---- the alias move ----

  /** Checks what every move needs before the alias is claimed, so bad input never touches the alias. */
  async #prepareMove (model: string, alias: string, input: { reason?: string | null | undefined, ifMatch?: number | undefined }, actor: string): Promise<Model> {
    checkActor(actor)
    const found = await this.getModel(model)
    checkName('alias', alias)
    if (input === null || typeof input !== 'object') throw new InvalidInputError('the request body must be an object')
    optionalText('reason', input.reason)
    if (input.ifMatch !== undefined && (!Number.isInteger(input.ifMatch) || input.ifMatch < 0)) {
      throw new InvalidInputError('If-Match must be a revision number')
    }
    if (this.#deployTarget(found, alias) !== null) this.#requireDeployer(found)
    return found
  }

  /**
   * One alias move: claim the alias (the only place moves race), plan the new state from the alias as claimed,
   * push it to Lambda for the deploy alias (outside any transaction), then move the alias, bump its revision, free
   * the lock and append exactly one history entry in one transaction. When Lambda or the gate fails, the alias
   * stays, the lock is freed and one `failed` or `rejected` entry is written.
   */
  async #move (
    model: Model, alias: string, action: HistoryAction, actor: string,
    input: { reason?: string | null | undefined, ifMatch?: number | undefined }, options: { create?: boolean },
    plan: (row: AliasRow) => MovePlan | Promise<MovePlan>
  ): Promise<Alias> {
    const reason = optionalText('reason', input.reason)
    const lock = await this.#locks.claim(model.name, alias, { ifMatch: input.ifMatch, create: options.create === true })
    const log = this.#logger.child({ model: model.name, alias, action, actor })
    let planned: MovePlan
    try {
      planned = await plan(lock.row)
    } catch (error) {
      await this.#locks.release(lock)
      throw error
    }
    const entry = { action, actor, reason, fromRelease: planned.fromRelease, toRelease: planned.toRelease, detail: planned.detail ?? null }

    let versions: { main: string | null, canary: string | null } = { main: null, canary: null }
    const target = this.#deployTarget(model, alias)
    if (target !== null) {
      try {
        versions = await this.#pushToLambda(model, target, planned)
      } catch (error) {
        const rejected = error instanceof GateRejectedError
        const detail = error instanceof DeployStepError ? `${error.step}: ${error.message}` : messageOf(error)
        await this.#finishUnmoved(lock, { ...entry, outcome: rejected ? 'rejected' : 'failed', detail })
        log.warn({ err: error, release: planned.toRelease }, rejected ? 'the gate rejected the move' : 'pushing the move to Lambda failed')
        if (error instanceof DeployStepError) {
          throw new DeployFailedError(error.step, `Lambda failed at ${error.step}; alias ${alias} did not move: ${error.message}`, { cause: error })
        }
        throw error
      }
    }

    try {
      const moved = await this.#commit(lock, { ...entry, detail: describeVersions(entry.detail, target, versions) }, planned.state, versions)
      log.info({ release: moved.release, revision: moved.revision, canary: moved.canary, functionVersion: versions.main }, 'alias moved')
      return moved
    } catch (error) {
      await this.#locks.release(lock).catch(() => {})
      throw error
    }
  }

  /** Moves the alias to `state` and writes its `succeeded` entry, in one transaction, if the lock is still ours. */
  async #commit (lock: AliasLock, entry: HistoryDraft, state: AliasState, versions: { main: string | null, canary: string | null }): Promise<Alias> {
    const now = new Date().toISOString()
    return await this.#db.transaction().execute(async (trx) => {
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
      await trx.insertInto('alias_history').values(historyRow(lock, entry, 'succeeded', now)).execute()
      const row = await trx.selectFrom('aliases').selectAll().where('model', '=', lock.model).where('name', '=', lock.alias).executeTakeFirstOrThrow()
      return toAlias(row)
    })
  }

  /** Frees the lock and records a move that did not happen, in one transaction. */
  async #finishUnmoved (lock: AliasLock, entry: HistoryDraft & { outcome: HistoryOutcome }): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await this.#locks.release(lock, trx)
      await trx.insertInto('alias_history').values(historyRow(lock, entry, entry.outcome, new Date().toISOString())).execute()
    })
  }

  /** The rollback target without `to`: what the alias served before its last succeeded release-changing move. */
  async #releaseBeforeLastMove (model: string, alias: string): Promise<number> {
    const last = await this.#db.selectFrom('alias_history')
      .select(['from_release'])
      .where('model', '=', model)
      .where('alias', '=', alias)
      .where('outcome', '=', 'succeeded')
      .where('action', 'in', RELEASE_MOVES)
      .where('from_release', 'is not', null)
      .where((eb) => eb('from_release', '!=', eb.ref('to_release')))
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst()
    if (last?.from_release == null) {
      throw new InvalidInputError(`alias ${alias} has served no earlier release to roll back to; name one with "to"`)
    }
    return last.from_release
  }

  // ---- Lambda, through the deployer port: the only places that call it ----

  /** Where the alias is deployed: the deploy alias of a model with a function; null for a registry-only alias. */
  #deployTarget (model: Model, alias: string): DeployTarget | null {
    if (model.functionName === null || alias !== model.deployAlias) return null
    return { functionName: model.functionName, functionAlias: model.functionAlias }
  }

  #requireDeployer (model: Model): Deployer {
    if (this.#deployer === undefined) {
      throw new NotDeployedError(`model ${model.name} is served by ${model.functionName ?? 'a function'}, but this registry runs without a Lambda deployer`)
    }
    return this.#deployer
  }

  /**
   * Makes Lambda serve `planned`: each release involved as its published version (reused when one was published
   * before), the gate run on the candidate's version, then the function's alias routed. Returns the versions.
   */
  async #pushToLambda (model: Model, target: DeployTarget, planned: MovePlan): Promise<{ main: string, canary: string | null }> {
    const main = await this.#publishRelease(model, target, planned.state.release)
    const canary = planned.state.canary === null ? null : await this.#publishRelease(model, target, planned.state.canary.release)
    if (planned.gate !== null && model.gateImages.length > 0) {
      const version = planned.gate === planned.state.canary?.release ? canary! : main
      await this.#runGate(model, target, planned.gate, version)
    }
    await this.#requireDeployer(model).route(target, main,
      planned.state.canary === null || canary === null ? undefined : { functionVersion: canary, weight: planned.state.canary.weight })
    return { main, canary }
  }

  /** The published Lambda version of `release`: the recorded one when it still carries the pin, else a new one. */
  async #publishRelease (model: Model, target: DeployTarget, number: number): Promise<string> {
    const release = toRelease(await this.#releaseRow(model.name, number) ?? missingRelease(model.name, number))
    const known = await this.#db.selectFrom('deployments').select('function_version')
      .where('model', '=', model.name).where('release', '=', number).where('function_name', '=', target.functionName)
      .executeTakeFirst()
    const published = await this.#requireDeployer(model).publish(target, { model: model.name, release: number, pin: this.pinOf(model, release) }, known?.function_version)
    if (published.functionVersion !== known?.function_version) {
      await this.#db.transaction().execute(async (trx) => {
        // A version carries one configuration, so it serves one release. A version number recorded for another
        // release is stale: the function was recreated (a restarted local runtime starts again at version 1), and
        // keeping the old record would make what Lambda serves map to two releases.
        await trx.deleteFrom('deployments')
          .where('function_name', '=', target.functionName).where('function_version', '=', published.functionVersion)
          .where((eb) => eb.or([eb('model', '!=', model.name), eb('release', '!=', number)]))
          .execute()
        await trx.insertInto('deployments')
          .values({ model: model.name, release: number, function_name: target.functionName, function_version: published.functionVersion, created_at: new Date().toISOString() })
          .onConflict((conflict) => conflict.columns(['model', 'release', 'function_name']).doUpdateSet({ function_version: published.functionVersion }))
          .execute()
      })
    }
    return published.functionVersion
  }

  /** Invokes the candidate's version with its pin on each gate image; GateRejectedError on the first function error. */
  async #runGate (model: Model, target: DeployTarget, number: number, functionVersion: string): Promise<void> {
    const release = toRelease(await this.#releaseRow(model.name, number) ?? missingRelease(model.name, number))
    for (const image of model.gateImages) {
      const where = `gate image s3://${image.bucket}/${image.key}`
      // Lambda itself failing (unreachable, throttled) throws a DeployStepError: the move fails (502, `failed`) with
      // no verdict on the release. Only the candidate's own answer can reject it.
      const result = await this.#requireDeployer(model).invoke(target, { image, model: eventPin(release), topK: 1 }, functionVersion)
      if (result.functionError !== undefined) {
        const failure = functionFailure(result.payload, result.functionError)
        throw new GateRejectedError(`release ${number} was not promoted: ${where} failed with ${failure.errorType}: ${failure.errorMessage}`)
      }
    }
  }

  /** What Lambda's alias serves, with the releases its versions were published for. */
  async #readLive (model: Model, target: DeployTarget): Promise<{ alias: LiveAlias, view: LiveView }> {
    const live = await this.#requireDeployer(model).readLive(target)
    const versions = [live.functionVersion, ...(live.canary === null ? [] : [live.canary.functionVersion])]
    const rows = await this.#db.selectFrom('deployments').select(['release', 'function_version'])
      .where('model', '=', model.name).where('function_name', '=', target.functionName)
      .where('function_version', 'in', versions)
      .execute()
    const releaseOf = (version: string): number | null => {
      const matches = rows.filter((row) => row.function_version === version).map((row) => row.release)
      return matches.length === 1 ? matches[0]! : null
    }
    return {
      alias: live,
      view: {
        functionName: target.functionName,
        functionAlias: target.functionAlias,
        functionVersion: live.functionVersion,
        release: releaseOf(live.functionVersion),
        pin: live.pin ?? null,
        canary: live.canary === null
          ? null
          : { functionVersion: live.canary.functionVersion, release: releaseOf(live.canary.functionVersion), weight: live.canary.weight, pin: live.canary.pin ?? null },
      },
    }
  }

  // ---- rows ----

  /**
   * Where a version's digest comes from, in one place. An upload through the registry records the sha256 of the
   * bytes it streamed (uploadArtifact). A version named in a release must exist; its digest is the one recorded
   * before, else its `sha256` metadata, else computed by streaming its bytes, and is recorded from then on. Nothing
   * else writes a digest, so a listing reports one only for versions the registry has recorded.
   */
  async #artifactFacts (loc: S3Location, versionId: string, field: string): Promise<{ size: number, sha256: string }> {
    const head = await this.#store.headVersion(loc, versionId)
    if (head === null) {
      const missing = versionNotFound(loc, versionId)
      missing.message = `${field}: ${missing.message}`
      throw missing
    }
    const recorded = (await this.#recordedDigests(loc, [versionId])).get(versionId)
    if (recorded !== undefined) return { size: head.size, sha256: recorded }
    const facts = { size: head.size, sha256: head.sha256 ?? await this.#store.sha256Of(loc, versionId) }
    await this.#recordDigest(loc, versionId, facts)
    return facts
  }

  /** Records what the registry learnt of one version; versions never change, so a row once written stays. */
  async #recordDigest (loc: S3Location, versionId: string, facts: { size: number, sha256: string }): Promise<void> {
    await this.#db.insertInto('artifact_digests')
      .values({ bucket: loc.bucket, key: loc.key, version_id: versionId, sha256: facts.sha256, size: facts.size, recorded_at: new Date().toISOString() })
      // another registration of the same version got there first, with the same facts
      .onConflict((conflict) => conflict.columns(['bucket', 'key', 'version_id']).doNothing())
      .execute()
  }

  /** The recorded digests of some versions of one object, by VersionId, in one query. */
  async #recordedDigests (loc: S3Location, versionIds: string[]): Promise<Map<string, string>> {
    if (versionIds.length === 0) return new Map()
    const rows = await this.#db.selectFrom('artifact_digests').select(['version_id', 'sha256'])
      .where('bucket', '=', loc.bucket).where('key', '=', loc.key).where('version_id', 'in', versionIds)
      .execute()
    return new Map(rows.map((row) => [row.version_id, row.sha256]))
  }

  async #releaseNamedInBody (model: string, number: unknown, field: string): Promise<ReleaseRow> {
    if (!Number.isInteger(number) || (number as number) < 1) throw new InvalidInputError(`${field} must be a release number (1, 2, ...)`)
    const row = await this.#releaseRow(model, number as number)
    if (row === undefined) throw new UnknownReleaseError(`model ${model} has no release ${String(number)}`)
    return row
  }

  async #releaseRow (model: string, number: number): Promise<ReleaseRow | undefined> {
    if (!Number.isInteger(number)) return undefined
    return await this.#db.selectFrom('releases').selectAll().where('model', '=', model).where('number', '=', number).executeTakeFirst()
  }

  async #releaseCount (model: string): Promise<number> {
    const { count } = await this.#db.selectFrom('releases').select((eb) => eb.fn.countAll().as('count'))
      .where('model', '=', model).executeTakeFirstOrThrow()
    return Number(count)
  }

  async #aliasRow (model: string, alias: string): Promise<AliasRow | undefined> {
    return await this.#db.selectFrom('aliases').selectAll().where('model', '=', model).where('name', '=', alias).executeTakeFirst()
  }
}

// ---- validation: the registry's rules for names and fields ----

/** True when `name` is a valid model or alias name: lowercase letters, digits, `.`, `_`, `-`, no `..`. */
export function isValidName (name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name) && !name.includes('..')
}

function checkName (field: string, name: unknown): asserts name is string {
  if (!isValidName(name)) {
    throw new InvalidInputError(`${field} must be 1 to 63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, without ".."`)
  }
}

function checkActor (actor: unknown): void {
  if (typeof actor !== 'string' || actor === '' || actor.length > 200 || CONTROL_CHARACTERS.test(actor)) {
    throw new InvalidInputError('actor must be a non-empty name without control characters')
  }
}

function checkKind (kind: unknown): ArtifactKind {
  if (!(ARTIFACT_KINDS as readonly unknown[]).includes(kind)) throw new InvalidInputError(`kind must be one of ${ARTIFACT_KINDS.join(', ')}`)
  return kind as ArtifactKind
}

function checkBucket (field: string, bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string' || !BUCKET_PATTERN.test(bucket)) {
    throw new InvalidInputError(`${field} must be an S3 bucket name (3 to 255 letters, digits, ".", "_" or "-")`)
  }
}

function checkKey (field: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES || CONTROL_CHARACTERS.test(key)) {
    throw new InvalidInputError(`${field} must be a non-empty S3 key of at most ${MAX_KEY_BYTES} bytes without control characters`)
  }
}

function checkVersionId (field: string, versionId: unknown): asserts versionId is string {
  if (typeof versionId !== 'string' || versionId === '' || versionId.length > 1024 || CONTROL_CHARACTERS.test(versionId)) {
    throw new InvalidInputError(`${field} must be a non-empty S3 VersionId`)
  }
}

function optionalText (field: string, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null
  if (typeof value !== 'string' || value.length > MAX_TEXT) throw new InvalidInputError(`${field} must be text of at most ${MAX_TEXT} characters`)
  return value
}

/** Validates a model's settings and turns them into its columns. */
function modelColumns (settings: Omit<Model, 'name' | 'createdAt' | 'updatedAt'>): Omit<ModelsTable, 'name' | 'created_at' | 'updated_at'> {
  checkBucket('bucket', settings.bucket)
  checkKey('weightsKey', settings.weightsKey)
  checkKey('labelsKey', settings.labelsKey)
  if (settings.weightsKey === settings.labelsKey) throw new InvalidInputError('weightsKey and labelsKey must be different objects')
  if (settings.functionName !== null && (typeof settings.functionName !== 'string' || !FUNCTION_NAME_PATTERN.test(settings.functionName))) {
    throw new InvalidInputError('functionName must be a Lambda function name or ARN')
  }
  if (typeof settings.functionAlias !== 'string' || !FUNCTION_ALIAS_PATTERN.test(settings.functionAlias)) {
    throw new InvalidInputError('functionAlias must be a Lambda alias name (letters, digits, "-", "_", not only digits)')
  }
  checkName('deployAlias', settings.deployAlias)
  if (!Array.isArray(settings.gateImages) || settings.gateImages.length > MAX_GATE_IMAGES) {
    throw new InvalidInputError(`gateImages must be a list of at most ${MAX_GATE_IMAGES} {bucket, key}`)
  }
  const gateImages = settings.gateImages.map((image, i) => {
    if (image === null || typeof image !== 'object') throw new InvalidInputError(`gateImages[${i}] must be {bucket, key}`)
    checkBucket(`gateImages[${i}].bucket`, image.bucket)
    checkKey(`gateImages[${i}].key`, image.key)
    return { bucket: image.bucket, key: image.key }
  })
  return {
    bucket: settings.bucket,
    weights_key: settings.weightsKey,
    labels_key: settings.labelsKey,
    function_name: settings.functionName,
    function_alias: settings.functionAlias,
    deploy_alias: settings.deployAlias,
    gate_images: JSON.stringify(gateImages),
  }
}

// ---- rows to domain objects ----

type HistoryDraft = Pick<HistoryEntry, 'action' | 'actor' | 'reason' | 'fromRelease' | 'toRelease' | 'detail'>

function historyRow (lock: AliasLock, entry: HistoryDraft, outcome: HistoryOutcome, at: string): Omit<Selectable<AliasHistoryTable>, 'id'> {
  return {
    model: lock.model,
    alias: lock.alias,
    at,
    actor: entry.actor,
    action: entry.action,
    from_release: entry.fromRelease,
    to_release: entry.toRelease,
    reason: entry.reason,
    outcome,
    detail: entry.detail,
  }
}

function toModel (row: ModelsTable): Model {
  return {
    name: row.name,
    bucket: row.bucket,
    weightsKey: row.weights_key,
    labelsKey: row.labels_key,
    functionName: row.function_name,
    functionAlias: row.function_alias,
    deployAlias: row.deploy_alias,
    gateImages: JSON.parse(row.gate_images) as S3Location[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}

function toRelease (row: ReleaseRow): Release {
  return {
    model: row.model,
    number: row.number,
    weightsVersionId: row.weights_version_id,
    labelsVersionId: row.labels_version_id,
    weightsSha256: row.weights_sha256,
    labelsSha256: row.labels_sha256,
    weightsSize: Number(row.weights_size),
    labelsSize: Number(row.labels_size),
    notes: row.notes,
    createdAt: row.created_at,
    createdBy: row.created_by,
  }
}

function toAlias (row: AliasRow): Alias {
  return {
    model: row.model,
    alias: row.name,
    release: row.release ?? 0,
    revision: row.revision,
    updatedAt: row.updated_at,
    canary: row.canary_release === null ? null : { release: row.canary_release, weight: row.canary_weight ?? 0 },
  }
}

function toHistoryEntry (row: Selectable<AliasHistoryTable>): HistoryEntry {
  return {
    at: row.at,
    actor: row.actor,
    action: row.action as HistoryAction,
    fromRelease: row.from_release,
    toRelease: row.to_release,
    reason: row.reason,
    outcome: row.outcome as HistoryOutcome,
    detail: row.detail,
  }
}

function artifactLocation (model: Model, kind: ArtifactKind): S3Location {
  return { bucket: model.bucket, key: kind === 'weights' ? model.weightsKey : model.labelsKey }
}

/** The release an alias serves; an alias whose first move never succeeded does not exist yet. */
function servedRelease (row: AliasRow, model: string): number {
  if (row.release === null) throw new AliasNotFoundError(`model ${model} has no alias ${row.name}`)
  return row.release
}

function missingRelease (model: string, number: number): never {
  throw new UnknownReleaseError(`model ${model} has no release ${number}`)
}

/** The `model` field of a direct-invoke event (DESIGN.md): the pinned version IDs and their digests. */
function eventPin (release: Release): { weightsVersionId: string, labelsVersionId: string, weightsSha256: string, labelsSha256: string } {
  return {
    weightsVersionId: release.weightsVersionId,
    labelsVersionId: release.labelsVersionId,
    weightsSha256: release.weightsSha256,
    labelsSha256: release.labelsSha256,
  }
}

/** True when Lambda serves exactly the versions (and canary weight) the registry recorded for the alias. */
function sameServing (row: AliasRow, live: LiveAlias): boolean {
  if (row.function_version !== live.functionVersion) return false
  if (live.canary === null) return row.canary_release === null
  return row.canary_release !== null && row.canary_function_version === live.canary.functionVersion &&
    Math.abs((row.canary_weight ?? 0) - live.canary.weight) < 1e-6
}

function describeVersions (detail: string | null, target: DeployTarget | null, versions: { main: string | null, canary: string | null }): string | null {
  if (target === null || versions.main === null) return detail
  const lambda = `Lambda ${target.functionName}:${target.functionAlias} -> version ${versions.main}` +
    (versions.canary === null ? '' : ` with canary version ${versions.canary}`)
  return detail === null ? lambda : `${detail}; ${lambda}`
}

/** The function's error as Lambda reports it (`{errorType, errorMessage}`), whatever shape the payload has. */
function functionFailure (payload: unknown, functionError: string): { errorType: string, errorMessage: string } {
  const body = (payload !== null && typeof payload === 'object' ? payload : {}) as { errorType?: unknown, errorMessage?: unknown }
  return {
    errorType: typeof body.errorType === 'string' ? body.errorType : functionError,
    errorMessage: typeof body.errorMessage === 'string' ? body.errorMessage : typeof payload === 'string' ? payload : 'the function reported no message',
  }
}

function messageOf (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
