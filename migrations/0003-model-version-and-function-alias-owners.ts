import type { Kysely } from 'kysely'

/**
 * A model's `version` (1 at registration, +1 per update: what its ETag and If-Match name) and the owner of each
 * Lambda alias: a (function_name, function_alias) pair drives the deploy alias of one model only.
 *
 * Ownership is a table keyed by the pair rather than a check in a transaction or a unique index on models: a check
 * (select, then insert) lets two concurrent registrations both see the pair free under PostgreSQL's read committed,
 * and a unique index on models cannot be created over registries that already share a pair, whose rows must stay.
 * The table's primary key makes the second claimant fail on both databases, and a shared pair keeps its models: the
 * earliest-registered one owns it, the later ones are refused moves until they leave it.
 *
 * Kysely's schema and query builders only: the same file runs on SQLite and PostgreSQL.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('models').addColumn('version', 'integer', (c) => c.notNull().defaultTo(1)).execute()

  await db.schema.createTable('function_alias_owners')
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('function_alias', 'text', (c) => c.notNull())
    // a model drives one Lambda alias at most
    .addColumn('model', 'text', (c) => c.notNull().unique().references('models.name'))
    .addPrimaryKeyConstraint('function_alias_owners_pk', ['function_name', 'function_alias'])
    .execute()

  // Every pair in use goes to its earliest-registered model (ties, registered in the same millisecond, by name).
  await db.insertInto('function_alias_owners')
    .columns(['function_name', 'function_alias', 'model'])
    .expression((eb) => eb.selectFrom('models as m')
      .select(['m.function_name', 'm.function_alias', 'm.name'])
      .where('m.function_name', 'is not', null)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('models as e')
        .select('e.name')
        .whereRef('e.function_name', '=', 'm.function_name')
        .whereRef('e.function_alias', '=', 'm.function_alias')
        .where((earlier) => earlier.or([
          earlier('e.created_at', '<', earlier.ref('m.created_at')),
          earlier.and([earlier('e.created_at', '=', earlier.ref('m.created_at')), earlier('e.name', '<', earlier.ref('m.name'))]),
        ]))))))
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('function_alias_owners').execute()
  await db.schema.alterTable('models').dropColumn('version').execute()
}
