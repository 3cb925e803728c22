import { DEFAULT_DEPLOY_ALIAS, DEFAULT_FUNCTION_ALIAS } from '../contract/defaults.js'
import { timestamp, type RegistryContext } from './context.js'
import { isUniqueViolation, type ModelsTable } from './db.js'
import { InvalidInputError, ModelExistsError, ModelNotFoundError } from './errors.js'
import type { Model, ModelInput, ModelPatch } from './model.js'
import { modelColumns, toModel } from './rows.js'
import { checkActor, checkModelSettings, checkName, checkObject } from './validation.js'

/** Registers a model; ModelExistsError when the name is taken. */
export async function createModel (ctx: RegistryContext, input: ModelInput, actor: string): Promise<Model> {
  checkActor(actor)
  checkName('name', input?.name)
  const now = timestamp(ctx)
  const row: ModelsTable = {
    name: input.name,
    ...modelColumns(checkModelSettings({
      bucket: input.bucket,
      weightsKey: input.weightsKey,
      labelsKey: input.labelsKey,
      functionName: input.functionName ?? null,
      functionAlias: input.functionAlias ?? DEFAULT_FUNCTION_ALIAS,
      deployAlias: input.deployAlias ?? DEFAULT_DEPLOY_ALIAS,
      gateImages: input.gateImages ?? [],
    })),
    created_at: now,
    updated_at: now,
  }
  try {
    await ctx.db.insertInto('models').values(row).execute()
  } catch (error) {
    if (isUniqueViolation(error)) throw new ModelExistsError(`model ${input.name} exists already`, { cause: error })
    throw error
  }
  ctx.logger.info({ model: input.name, actor }, 'model registered')
  return toModel(row)
}

/** Changes a model's settings; its bucket and keys are fixed once it has releases (their pins name them). */
export async function updateModel (ctx: RegistryContext, name: string, patch: ModelPatch, actor: string): Promise<Model> {
  checkActor(actor)
  const current = await getModel(ctx, name)
  checkObject(patch, 'the patch')
  const merged = checkModelSettings({
    bucket: patch.bucket ?? current.bucket,
    weightsKey: patch.weightsKey ?? current.weightsKey,
    labelsKey: patch.labelsKey ?? current.labelsKey,
    functionName: patch.functionName === undefined ? current.functionName : patch.functionName,
    functionAlias: patch.functionAlias ?? current.functionAlias,
    deployAlias: patch.deployAlias ?? current.deployAlias,
    gateImages: patch.gateImages ?? current.gateImages,
  })
  const columns = modelColumns(merged)
  const moved = merged.bucket !== current.bucket || merged.weightsKey !== current.weightsKey || merged.labelsKey !== current.labelsKey
  if (moved && await hasReleases(ctx, name)) {
    throw new InvalidInputError(`bucket, weightsKey and labelsKey of model ${name} cannot change: its releases pin versions of those objects`)
  }
  const updatedAt = timestamp(ctx)
  await ctx.db.updateTable('models').set({ ...columns, updated_at: updatedAt }).where('name', '=', name).execute()
  ctx.logger.info({ model: name, actor, fields: Object.keys(patch) }, 'model updated')
  return toModel({ name, ...columns, created_at: current.createdAt, updated_at: updatedAt })
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

async function hasReleases (ctx: RegistryContext, model: string): Promise<boolean> {
  const { count } = await ctx.db.selectFrom('releases').select((eb) => eb.fn.countAll().as('count'))
    .where('model', '=', model).executeTakeFirstOrThrow()
  return Number(count) > 0
}
