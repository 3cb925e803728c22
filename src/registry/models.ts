import { PostgresAdapter, type Kysely } from 'kysely'
import { DEFAULT_DEPLOY_ALIAS, DEFAULT_FUNCTION_ALIAS } from '../contract/defaults.js'
import { DEFAULT_PREWARM } from '../contract/limits.js'
import { timestamp, type RegistryContext } from './context.js'
import { isUniqueViolation, type RegistrySchema } from './db.js'
import { InvalidInputError, ModelExistsError, ModelNotFoundError, RevisionMismatchError } from './errors.js'
import {
  claimFunctionAlias, functionAliasOf, releaseFunctionAlias, sameFunctionAlias,
} from './function-alias-owners.js'
import type { Model, ModelInput, ModelPatch } from './model.js'
import { modelColumns, toModel, type ModelRow } from './rows.js'
import { checkActor, checkModelSettings, checkName, checkObject } from './validation.js'

/** Registers a model at version 1; ModelExistsError when the name is taken, FunctionAliasTakenError when its Lambda alias is. */
export async function createModel (ctx: RegistryContext, input: ModelInput, actor: string): Promise<Model> {
  checkActor(actor)
  checkName('name', input?.name)
  const now = timestamp(ctx)
  const settings = checkModelSettings({
    bucket: input.bucket,
    weightsKey: input.weightsKey,
    labelsKey: input.labelsKey,
    functionName: input.functionName ?? null,
    functionAlias: input.functionAlias ?? DEFAULT_FUNCTION_ALIAS,
    deployAlias: input.deployAlias ?? DEFAULT_DEPLOY_ALIAS,
    gateImages: input.gateImages ?? [],
    prewarm: input.prewarm ?? DEFAULT_PREWARM,
    promotionPolicy: input.promotionPolicy ?? null,
  })
  const row: ModelRow = { name: input.name, ...modelColumns(settings), created_at: now, updated_at: now, version: 1 }
  await ctx.db.transaction().execute(async (trx) => {
    try {
      await trx.insertInto('models').values(row).execute()
    } catch (error) {
      if (isUniqueViolation(error)) throw new ModelExistsError(`model ${input.name} exists already`, { cause: error })
      throw error
    }
    const pair = functionAliasOf(settings)
    if (pair !== null) await claimFunctionAlias(trx, pair, input.name)
  })
  ctx.logger.info({ model: input.name, actor }, 'model registered')
  return toModel(row)
}

/**
 * Changes a model's settings and bumps its version; its bucket and keys are fixed once it has releases (their pins
 * name them). With `ifMatch`, a model at another version is RevisionMismatchError; without it, concurrent updates
 * apply one after the other, each to the result of the one before.
 */
export async function updateModel (
  ctx: RegistryContext, name: string, patch: ModelPatch, actor: string, options: { ifMatch?: number | undefined } = {}
): Promise<Model> {
  checkActor(actor)
  checkName('model', name)
  if (options.ifMatch !== undefined && (!Number.isInteger(options.ifMatch) || options.ifMatch < 0)) {
    throw new InvalidInputError('If-Match must be a model version')
  }
  for (let attempt = 1; ; attempt++) {
    try {
      const updated = await ctx.db.transaction().execute((trx) => applyPatch(ctx, trx, name, patch, options.ifMatch))
      ctx.logger.info({ model: name, actor, fields: Object.keys(patch), version: updated.version }, 'model updated')
      return updated
    } catch (error) {
      if (!(error instanceof VersionMovedError) || attempt >= MAX_UPDATE_ATTEMPTS) throw error
    }
  }
}

/**
 * How often an update without If-Match reads the model again when another update committed between its read and
 * its write. PostgreSQL's row lock and SQLite's single writer make that rare; the bound keeps a bug from looping.
 */
const MAX_UPDATE_ATTEMPTS = 10

/** Thrown inside an update's transaction (rolling it back) when the version it read is no longer the model's. */
class VersionMovedError extends Error {}

async function applyPatch (
  ctx: RegistryContext, trx: Kysely<RegistrySchema>, name: string, patch: ModelPatch, ifMatch: number | undefined
): Promise<Model> {
  // PostgreSQL: the row lock queues concurrent updates of one model here; SQLite runs one write transaction at a time.
  const row = await trx.selectFrom('models').selectAll().where('name', '=', name)
    .$if(trx.getExecutor().adapter instanceof PostgresAdapter, (query) => query.forUpdate())
    .executeTakeFirst()
  if (row === undefined) throw new ModelNotFoundError(`there is no model ${name}`)
  const current = toModel(row)
  checkObject(patch, 'the patch')
  if (ifMatch !== undefined && ifMatch !== current.version) {
    throw new RevisionMismatchError(`model ${name} is at version ${current.version}, not ${ifMatch}`)
  }
  const merged = checkModelSettings({
    bucket: patch.bucket ?? current.bucket,
    weightsKey: patch.weightsKey ?? current.weightsKey,
    labelsKey: patch.labelsKey ?? current.labelsKey,
    functionName: patch.functionName === undefined ? current.functionName : patch.functionName,
    functionAlias: patch.functionAlias ?? current.functionAlias,
    deployAlias: patch.deployAlias ?? current.deployAlias,
    gateImages: patch.gateImages ?? current.gateImages,
    prewarm: patch.prewarm ?? current.prewarm,
    promotionPolicy: patch.promotionPolicy === undefined ? current.promotionPolicy : patch.promotionPolicy,
  })
  const moved = merged.bucket !== current.bucket || merged.weightsKey !== current.weightsKey || merged.labelsKey !== current.labelsKey
  if (moved && await hasReleases(trx, name)) {
    throw new InvalidInputError(`bucket, weightsKey and labelsKey of model ${name} cannot change: its releases pin versions of those objects`)
  }
  // A model that stays on its Lambda alias keeps it as it is (owned, or shared since before the rule); one that
  // changes it lets the old one go and claims the new one.
  const [before, after] = [functionAliasOf(current), functionAliasOf(merged)]
  if (!sameFunctionAlias(before, after)) {
    if (before !== null) await releaseFunctionAlias(trx, before, name)
    if (after !== null) await claimFunctionAlias(trx, after, name)
  }
  const columns = modelColumns(merged)
  const updatedAt = timestamp(ctx)
  const version = current.version + 1
  const { numUpdatedRows } = await trx.updateTable('models')
    .set({ ...columns, updated_at: updatedAt, version })
    .where('name', '=', name).where('version', '=', current.version)
    .executeTakeFirst()
  if (numUpdatedRows === 0n) {
    if (ifMatch !== undefined) throw new RevisionMismatchError(`model ${name} is no longer at version ${ifMatch}`)
    throw new VersionMovedError(`model ${name} moved past version ${current.version}`)
  }
  return toModel({ name, ...columns, created_at: current.createdAt, updated_at: updatedAt, version })
}

/** Every registered model, by name. */
export async function listModels (ctx: RegistryContext): Promise<Model[]> {
  const rows = await ctx.db.selectFrom('models').selectAll().orderBy('name').execute()
  return rows.map(toModel)
}

/** One model; ModelNotFoundError when there is none of that name. */
export async function getModel (ctx: RegistryContext, name: string): Promise<Model> {
  checkName('model', name)
  const row = await ctx.db.selectFrom('models').selectAll().where('name', '=', name).executeTakeFirst()
  if (row === undefined) throw new ModelNotFoundError(`there is no model ${name}`)
  return toModel(row)
}

async function hasReleases (db: Kysely<RegistrySchema>, model: string): Promise<boolean> {
  const { count } = await db.selectFrom('releases').select((eb) => eb.fn.countAll().as('count'))
    .where('model', '=', model).executeTakeFirstOrThrow()
  return Number(count) > 0
}
