import { PostgresAdapter, type Kysely } from 'kysely'

/**
 * The registry's tables. Written with Kysely's schema builder only, so the same file runs on SQLite and PostgreSQL.
 * Timestamps are ISO-8601 text (they compare and sort as text the same way on both), JSON is text.
 */
export async function up (db: Kysely<any>): Promise<void> {
  // The one place the two dialects differ: an auto-numbered key (SQLite's rowid alias, PostgreSQL's serial).
  const autoId = db.getExecutor().adapter instanceof PostgresAdapter ? 'serial' : 'integer'

  await db.schema.createTable('models')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('weights_key', 'text', (c) => c.notNull())
    .addColumn('labels_key', 'text', (c) => c.notNull())
    .addColumn('function_name', 'text')
    .addColumn('function_alias', 'text', (c) => c.notNull())
    .addColumn('deploy_alias', 'text', (c) => c.notNull())
    .addColumn('gate_images', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema.createTable('releases')
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('weights_version_id', 'text', (c) => c.notNull())
    .addColumn('labels_version_id', 'text', (c) => c.notNull())
    .addColumn('weights_sha256', 'text', (c) => c.notNull())
    .addColumn('labels_sha256', 'text', (c) => c.notNull())
    .addColumn('weights_size', 'bigint', (c) => c.notNull())
    .addColumn('labels_size', 'bigint', (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    // the key is what keeps release numbers free of duplicates when two registrations race
    .addPrimaryKeyConstraint('releases_pk', ['model', 'number'])
    .execute()

  await db.schema.createTable('aliases')
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('name', 'text', (c) => c.notNull())
    // null until the alias's first move succeeds: the row exists earlier so that the first promotion can be claimed
    .addColumn('release', 'integer')
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('function_version', 'text')
    .addColumn('canary_release', 'integer')
    .addColumn('canary_weight', 'double precision')
    .addColumn('canary_function_version', 'text')
    .addColumn('lock_token', 'text')
    .addColumn('lock_expires_at', 'text')
    .addPrimaryKeyConstraint('aliases_pk', ['model', 'name'])
    .execute()

  await db.schema.createTable('alias_history')
    .addColumn('id', autoId, (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('alias', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_release', 'integer')
    .addColumn('to_release', 'integer')
    .addColumn('reason', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addForeignKeyConstraint('alias_history_alias_fk', ['model', 'alias'], 'aliases', ['model', 'name'])
    .execute()
  await db.schema.createIndex('alias_history_by_alias').on('alias_history').columns(['model', 'alias', 'id']).execute()

  await db.schema.createTable('api_tokens')
    .addColumn('token_sha256', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute()

  await db.schema.createTable('deployments')
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('release', 'integer', (c) => c.notNull())
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('function_version', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployments_pk', ['model', 'release', 'function_name'])
    .addForeignKeyConstraint('deployments_release_fk', ['model', 'release'], 'releases', ['model', 'number'])
    .execute()
  await db.schema.createIndex('deployments_by_version').on('deployments').columns(['function_name', 'function_version']).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  for (const table of ['deployments', 'api_tokens', 'alias_history', 'aliases', 'releases', 'models']) {
    await db.schema.dropTable(table).execute()
  }
}
