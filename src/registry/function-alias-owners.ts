import type { Kysely } from 'kysely'
import type { RegistryContext } from './context.js'
import { isUniqueViolation, type RegistrySchema } from './db.js'
import { FunctionAliasTakenError } from './errors.js'
import type { Model } from './model.js'

/**
 * One owner per Lambda alias: a (functionName, functionAlias) pair drives the deploy alias of one model, recorded in
 * `function_alias_owners` (migrations/0003), whose primary key refuses a second claimant even when two requests race.
 * A registry from before the rule may have several models on one pair: the earliest-registered owns it, and the
 * others keep their data but cannot move until they get a Lambda alias of their own.
 *
 * The pair is compared as written: a function named once by name and once by ARN counts as two functions.
 */

export interface FunctionAlias { functionName: string, functionAlias: string }

/** A Lambda alias several models drive (a registry from before the rule), its owner and the models refused moves. */
export interface SharedFunctionAlias extends FunctionAlias {
  owner: string | null
  /** every model on the pair, earliest-registered first */
  models: string[]
}

/** The Lambda alias a model drives; null for a registry-only model. */
export function functionAliasOf (model: Pick<Model, 'functionName' | 'functionAlias'>): FunctionAlias | null {
  return model.functionName === null ? null : { functionName: model.functionName, functionAlias: model.functionAlias }
}

export function sameFunctionAlias (a: FunctionAlias | null, b: FunctionAlias | null): boolean {
  return a === null || b === null ? a === b : a.functionName === b.functionName && a.functionAlias === b.functionAlias
}

/** Makes `model` the owner of `pair` (inside the caller's transaction); FunctionAliasTakenError if another model owns it. */
export async function claimFunctionAlias (db: Kysely<RegistrySchema>, pair: FunctionAlias, model: string): Promise<void> {
  const owner = await ownerOf(db, pair)
  if (owner === model) return
  if (owner !== null) throw takenError(pair, owner, `model ${model} needs a functionAlias of its own`)
  try {
    await db.insertInto('function_alias_owners')
      .values({ function_name: pair.functionName, function_alias: pair.functionAlias, model }).execute()
  } catch (error) {
    // another request claimed it since the read above
    if (isUniqueViolation(error)) throw takenError(pair, 'another model', `model ${model} needs a functionAlias of its own`, error)
    throw error
  }
}

/**
 * Lets go of `pair` if `model` owns it (inside the caller's transaction, before the model leaves it): a model that
 * shared the pair since before the rule, the earliest-registered, becomes its owner.
 */
export async function releaseFunctionAlias (db: Kysely<RegistrySchema>, pair: FunctionAlias, model: string): Promise<void> {
  const { numDeletedRows } = await db.deleteFrom('function_alias_owners')
    .where('function_name', '=', pair.functionName).where('function_alias', '=', pair.functionAlias).where('model', '=', model)
    .executeTakeFirst()
  if (numDeletedRows > 0n) await assignEarliestModel(db, pair, model)
}

/** Refuses (FunctionAliasTakenError) moves of a model whose Lambda alias another model owns. */
export async function requireFunctionAliasOwner (ctx: RegistryContext, model: Model): Promise<void> {
  const pair = functionAliasOf(model)
  if (pair === null) return
  let owner = await ownerOf(ctx.db, pair)
  if (owner === null) {
    // no owner recorded (rows written around the registry): the earliest-registered model on the pair takes it
    await assignEarliestModel(ctx.db, pair)
    owner = await ownerOf(ctx.db, pair)
  }
  if (owner !== model.name) {
    throw takenError(pair, owner ?? 'another model',
      `model ${model.name} cannot move until it gets a functionAlias of its own or is made registry-only`)
  }
}

/** The Lambda aliases that several models drive, with their owners; empty in a registry that follows the rule. */
export async function sharedFunctionAliases (ctx: RegistryContext): Promise<SharedFunctionAlias[]> {
  const rows = await ctx.db.selectFrom('models')
    .leftJoin('function_alias_owners', (join) => join
      .onRef('function_alias_owners.function_name', '=', 'models.function_name')
      .onRef('function_alias_owners.function_alias', '=', 'models.function_alias'))
    .select(['models.name', 'models.function_name', 'models.function_alias', 'function_alias_owners.model as owner'])
    .where('models.function_name', 'is not', null)
    .orderBy('models.created_at').orderBy('models.name')
    .execute()
  const byPair = new Map<string, SharedFunctionAlias>()
  for (const row of rows) {
    const key = JSON.stringify([row.function_name, row.function_alias])
    const pair = byPair.get(key) ?? { functionName: row.function_name!, functionAlias: row.function_alias, owner: row.owner, models: [] }
    pair.models.push(row.name)
    byPair.set(key, pair)
  }
  return [...byPair.values()].filter((pair) => pair.models.length > 1)
}

async function ownerOf (db: Kysely<RegistrySchema>, pair: FunctionAlias): Promise<string | null> {
  const row = await db.selectFrom('function_alias_owners').select('model')
    .where('function_name', '=', pair.functionName).where('function_alias', '=', pair.functionAlias)
    .executeTakeFirst()
  return row?.model ?? null
}

/** Gives `pair`, if no one owns it, to the earliest-registered model on it (other than `except`), if there is one. */
async function assignEarliestModel (db: Kysely<RegistrySchema>, pair: FunctionAlias, except?: string): Promise<void> {
  await db.insertInto('function_alias_owners')
    .columns(['function_name', 'function_alias', 'model'])
    .expression((eb) => eb.selectFrom('models')
      .select(['function_name', 'function_alias', 'name'])
      .where('function_name', '=', pair.functionName)
      .where('function_alias', '=', pair.functionAlias)
      .$if(except !== undefined, (query) => query.where('name', '!=', except!))
      .orderBy('created_at').orderBy('name')
      .limit(1))
    .onConflict((conflict) => conflict.doNothing())
    .execute()
}

function takenError (pair: FunctionAlias, owner: string, what: string, cause?: unknown): FunctionAliasTakenError {
  return new FunctionAliasTakenError(
    `Lambda alias ${pair.functionAlias} of function ${pair.functionName} is driven by ${owner === 'another model' ? owner : `model ${owner}`}: ${what}`,
    cause === undefined ? undefined : { cause })
}
