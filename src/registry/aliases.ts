import type { AliasRow } from './alias-locks.js'
import type { RegistryContext } from './context.js'
import { AliasNotFoundError } from './errors.js'
import { DeployStepError } from './deployer.js'
import { deployTarget, readLive } from './lambda-sync.js'
import type { Alias, AliasView, Model } from './model.js'
import { getModel } from './models.js'
import { sameServing } from './move-plan.js'
import { toAlias, toClaimedAlias } from './rows.js'
import { checkName } from './validation.js'
import { awsErrorCode, redactAwsIdentifiers } from '../aws/aws-error-code.js'

/** The aliases of `model` that serve a release, by name. */
export async function listAliases (ctx: RegistryContext, model: string): Promise<Alias[]> {
  await getModel(ctx, model)
  const rows = await ctx.db.selectFrom('aliases').selectAll().where('model', '=', model)
    .where('release', 'is not', null).orderBy('name').execute()
  return rows.map(toAlias)
}

/**
 * One alias. For the deploy alias of a model with a function it also reports what Lambda serves and whether that
 * differs from the registry (`drift`); reading never changes anything.
 */
export async function getAlias (ctx: RegistryContext, model: string, alias: string): Promise<AliasView> {
  const found = await getModel(ctx, model)
  checkName('alias', alias)
  return await viewOf(ctx, found, await servingAlias(ctx, model, alias))
}

/** Every alias of `model` that serves a release, by name, each as `getAlias` reads it (`live` for the deploy alias). */
export async function listAliasViews (ctx: RegistryContext, model: string): Promise<AliasView[]> {
  const found = await getModel(ctx, model)
  const rows = await ctx.db.selectFrom('aliases').selectAll().where('model', '=', model)
    .where('release', 'is not', null).orderBy('name').execute()
  return await Promise.all(rows.map(async (row) => await viewOf(ctx, found, row)))
}

async function viewOf (ctx: RegistryContext, found: Model, row: AliasRow): Promise<AliasView> {
  const view: AliasView = { ...toAlias(row), live: null, drift: false }
  const target = deployTarget(found, row.name)
  if (target === null || ctx.deployer === undefined) return view
  try {
    const live = await readLive(ctx, found, target, { revision: row.revision })
    view.live = live.view
    view.drift = !sameServing(toClaimedAlias(row), live.alias)
  } catch (error) {
    // AWS's own message (ARNs, the account ID) goes to the log; the answer says which step failed and AWS's code
    ctx.logger.warn({ err: error, model: found.name, alias: row.name }, 'reading what Lambda serves failed')
    view.liveError = redactAwsIdentifiers(error instanceof DeployStepError ? error.message : `reading Lambda failed: ${awsErrorCode(error)}`)
  }
  return view
}

/** The row of an alias that serves a release; AliasNotFoundError when there is none (or its first move never succeeded). */
export async function servingAlias (ctx: RegistryContext, model: string, alias: string): Promise<AliasRow> {
  const row = await ctx.db.selectFrom('aliases').selectAll().where('model', '=', model).where('name', '=', alias).executeTakeFirst()
  if (row?.release === null || row === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
  return row
}
