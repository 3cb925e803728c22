import type { Kysely } from 'kysely'
import { DEFAULT_HISTORY_LIMIT } from '../contract/limits.js'
import type { RegistryContext } from './context.js'
import type { RegistrySchema } from './db.js'
import { AliasNotFoundError } from './errors.js'
import type { HistoryEntry, HistoryOutcome } from './model.js'
import { ROLLBACK_LOOKBACK_ACTIONS } from './move-plan.js'
import { getModel } from './models.js'
import { historyRow, toHistoryEntry, type HistoryDraft } from './rows.js'
import { checkHistoryLimit, checkName } from './validation.js'

/** The alias's history, newest first (failed and rejected attempts included). */
export async function history (ctx: RegistryContext, model: string, alias: string, options: { limit?: number | undefined } = {}): Promise<HistoryEntry[]> {
  await getModel(ctx, model)
  checkName('alias', alias)
  const limit = options.limit ?? DEFAULT_HISTORY_LIMIT
  checkHistoryLimit(limit)
  const exists = await ctx.db.selectFrom('aliases').select('name').where('model', '=', model).where('name', '=', alias).executeTakeFirst()
  if (exists === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
  const rows = await ctx.db.selectFrom('alias_history').selectAll()
    .where('model', '=', model).where('alias', '=', alias)
    .orderBy('id', 'desc').limit(limit).execute()
  return rows.map(toHistoryEntry)
}

/** Appends one entry to an alias's history (inside the caller's transaction, when it passes one). */
export async function appendHistory (
  db: Kysely<RegistrySchema>, alias: { model: string, alias: string }, entry: HistoryDraft, outcome: HistoryOutcome, at: string
): Promise<void> {
  await db.insertInto('alias_history').values(historyRow(alias, entry, outcome, at)).execute()
}

/**
 * What the alias served before its last succeeded release-changing move (ROLLBACK_LOOKBACK_ACTIONS, from and to
 * differing): the target of a rollback without `to`; null when there is none.
 */
export async function releaseBeforeLastMove (ctx: RegistryContext, model: string, alias: string): Promise<number | null> {
  const last = await ctx.db.selectFrom('alias_history')
    .select(['from_release'])
    .where('model', '=', model)
    .where('alias', '=', alias)
    .where('outcome', '=', 'succeeded')
    .where('action', 'in', [...ROLLBACK_LOOKBACK_ACTIONS])
    .where('from_release', 'is not', null)
    .where((eb) => eb('from_release', '!=', eb.ref('to_release')))
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst()
  return last?.from_release ?? null
}
