import type { Kysely } from 'kysely'

/**
 * Evaluations (a candidate release against a baseline on recent inputs) and a model's promotion policy.
 * `evaluations` holds one row per evaluation: what it compares, its status, the lease of the one process running it
 * (`lease_*`, judged by the database's clock as alias locks are) and, once it ends, its figures as JSON text.
 * `evaluation_inputs` holds the inputs chosen when it started (key and VersionId) and each side's answer once
 * recorded (JSON text), so that a resumed evaluation invokes only what has no answer yet. `models.promotion_policy`
 * is JSON text or null.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('models').addColumn('promotion_policy', 'text').execute()

  await db.schema.createTable('evaluations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('candidate', 'integer', (c) => c.notNull())
    .addColumn('baseline', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failure', 'text')
    .addColumn('reason', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('input_bucket', 'text', (c) => c.notNull())
    .addColumn('input_prefix', 'text', (c) => c.notNull())
    .addColumn('input_count', 'integer', (c) => c.notNull())
    .addColumn('figures', 'text')
    .addColumn('lease_token', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .execute()
  await db.schema.createIndex('evaluations_model_started').on('evaluations').columns(['model', 'started_at']).execute()
  await db.schema.createIndex('evaluations_status').on('evaluations').column('status').execute()

  await db.schema.createTable('evaluation_inputs')
    .addColumn('evaluation', 'text', (c) => c.notNull().references('evaluations.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text')
    .addColumn('baseline_answer', 'text')
    .addColumn('candidate_answer', 'text')
    .addPrimaryKeyConstraint('evaluation_inputs_pk', ['evaluation', 'position'])
    .execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('evaluation_inputs').execute()
  await db.schema.dropTable('evaluations').execute()
  await db.schema.alterTable('models').dropColumn('promotion_policy').execute()
}
