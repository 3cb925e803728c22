import type { Kysely } from 'kysely'

/**
 * An alias lock records who holds it (`lock_owner`: host and process id) and, once the move is planned, what the
 * move intends (`intent_*`): a process that takes the lock over after its holder stopped renewing it settles that
 * move with one history entry of the original action, actor and reason. `intent_plan` is JSON text: the alias state
 * the move leads to and, once published, the Lambda versions it routes. `lock_expires_at` keeps its meaning but is
 * now written and judged by the database's clock.
 */
export async function up (db: Kysely<any>): Promise<void> {
  for (const column of ['lock_owner', 'intent_action', 'intent_actor', 'intent_reason', 'intent_plan']) {
    await db.schema.alterTable('aliases').addColumn(column, 'text').execute()
  }
  for (const column of ['intent_from_release', 'intent_to_release']) {
    await db.schema.alterTable('aliases').addColumn(column, 'integer').execute()
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const column of ['intent_to_release', 'intent_from_release', 'intent_plan', 'intent_reason', 'intent_actor', 'intent_action', 'lock_owner']) {
    await db.schema.alterTable('aliases').dropColumn(column).execute()
  }
}
