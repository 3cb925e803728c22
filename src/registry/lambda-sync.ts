import { timestamp, type RegistryContext } from './context.js'
import type { Deployer, DeployTarget, LiveAlias } from './deployer.js'
import { NotDeployedError } from './errors.js'
import type { LiveView, Model, Release } from './model.js'
import { pinOf } from './releases.js'

/**
 * The registry's side of Lambda: where an alias is deployed, the published version of each release (recorded in
 * `deployments`, so a rollback reuses it), and what Lambda serves read back as releases.
 */

/** Where the alias is deployed: the deploy alias of a model with a function; null for a registry-only alias. */
export function deployTarget (model: Model, alias: string): DeployTarget | null {
  if (model.functionName === null || alias !== model.deployAlias) return null
  return { functionName: model.functionName, functionAlias: model.functionAlias }
}

/** The deployer, for a model served by a function; NotDeployedError when this registry runs without one. */
export function requireDeployer (ctx: RegistryContext, model: Model): Deployer {
  if (ctx.deployer === undefined) {
    throw new NotDeployedError(`model ${model.name} is served by ${model.functionName ?? 'a function'}, but this registry runs without a Lambda deployer`)
  }
  return ctx.deployer
}

/**
 * The published Lambda version of `release`: the recorded one when it still carries the pin, else a new one. With
 * `republishWithoutRelease` (moves that bring a release forward, predict; not a rollback, which returns to a version
 * as it is), a recorded version that lacks MODEL_RELEASE is published again, unless the deploy
 * alias serves it right now (as its release or its canary): a new version would leave the one Lambda routes to
 * without a record (its release unknown to reads and reconcile) and would start production's environments cold.
 */
export async function publishRelease (
  ctx: RegistryContext, model: Model, target: DeployTarget, release: Release, options: { republishWithoutRelease?: boolean | undefined } = {}
): Promise<string> {
  const known = await ctx.db.selectFrom('deployments').select('function_version')
    .where('model', '=', model.name).where('release', '=', release.number).where('function_name', '=', target.functionName)
    .executeTakeFirst()
  const build = { model: model.name, release: release.number, pin: pinOf(model, release) }
  const requireRelease = options.republishWithoutRelease === true && known !== undefined && !await deployAliasServes(ctx, model, release)
  const published = await requireDeployer(ctx, model).publish(target, build, known?.function_version, { requireRelease })
  // a new version under a number read before means the function was created again: that earlier pin is not this one
  if (published.published) ctx.live.forgetVersion(target.functionName, published.functionVersion)
  if (published.functionVersion !== known?.function_version) {
    await ctx.db.transaction().execute(async (trx) => {
      // A version carries one configuration, so it serves one release. A version number recorded for another
      // release is stale: the function was recreated (a restarted local runtime starts again at version 1), and
      // keeping the old record would make what Lambda serves map to two releases.
      await trx.deleteFrom('deployments')
        .where('function_name', '=', target.functionName).where('function_version', '=', published.functionVersion)
        .where((eb) => eb.or([eb('model', '!=', model.name), eb('release', '!=', release.number)]))
        .execute()
      await trx.insertInto('deployments')
        .values({ model: model.name, release: release.number, function_name: target.functionName, function_version: published.functionVersion, created_at: timestamp(ctx) })
        .onConflict((conflict) => conflict.columns(['model', 'release', 'function_name']).doUpdateSet({ function_version: published.functionVersion }))
        .execute()
    })
  }
  return published.functionVersion
}

/** Whether the registry's deploy alias serves `release`, as its release or its canary. */
async function deployAliasServes (ctx: RegistryContext, model: Model, release: Release): Promise<boolean> {
  const row = await ctx.db.selectFrom('aliases').select(['release', 'canary_release'])
    .where('model', '=', model.name).where('name', '=', model.deployAlias).executeTakeFirst()
  return row !== undefined && (row.release === release.number || row.canary_release === release.number)
}

/**
 * What Lambda's alias serves, with the releases its versions were published for. `revision` is the registry's alias
 * revision the caller saw: a cached read taken against that revision or a newer one may answer; `fresh` always
 * reads Lambda (and refreshes the cache).
 */
export async function readLive (
  ctx: RegistryContext, model: Model, target: DeployTarget, read: { revision: number } | 'fresh'
): Promise<{ alias: LiveAlias, view: LiveView }> {
  const deployer = requireDeployer(ctx, model)
  const live = read === 'fresh' ? await ctx.live.refresh(deployer, target) : await ctx.live.read(deployer, target, read.revision)
  const versions = [live.functionVersion, ...(live.canary === null ? [] : [live.canary.functionVersion])]
  const rows = await ctx.db.selectFrom('deployments').select(['release', 'function_version'])
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
