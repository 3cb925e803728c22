import type { Kysely } from 'kysely'

/**
 * A model's `prewarm`: how many concurrent warm-up invocations of the target version a move makes before it routes
 * Lambda. Models registered before it get 1, the default.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('models').addColumn('prewarm', 'integer', (c) => c.notNull().defaultTo(1)).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('models').dropColumn('prewarm').execute()
}
