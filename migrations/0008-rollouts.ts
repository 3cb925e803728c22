import { PostgresAdapter, sql, type Kysely } from 'kysely'

/**
 * Rollouts: canary steps with an automatic verdict. One row per rollout, its steps and criteria as JSON text, the
 * step it is at, and the lease of the one process that drives it (by the database's clock, as alias locks). Each
 * verdict is one row of `rollout_observations`, written before the move it leads to. At most one rollout of an alias
 * runs at a time (a partial unique index). The history's `action` is free text: `canary-step` needs no change there.
 */
export async function up (db: Kysely<any>): Promise<void> {
  const autoId = db.getExecutor().adapter instanceof PostgresAdapter ? 'serial' : 'integer'
  await db.schema.createTable('rollouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull().references('models.name'))
    .addColumn('alias', 'text', (c) => c.notNull())
    .addColumn('release', 'integer', (c) => c.notNull())
    .addColumn('stable_release', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failure', 'text')
    .addColumn('steps', 'text', (c) => c.notNull())
    .addColumn('current_step', 'integer', (c) => c.notNull())
    .addColumn('step_seconds', 'integer', (c) => c.notNull())
    .addColumn('criteria', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('step_started_at', 'text', (c) => c.notNull())
    // how many times stepSeconds the current step's window spans (1, then more while it lacks invocations)
    .addColumn('step_lengths', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('finished_at', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('lease_token', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', 'text')
    .execute()
  await db.schema.createIndex('rollouts_by_alias').on('rollouts').columns(['model', 'alias', 'started_at']).execute()
  await db.schema.createIndex('rollouts_one_running_per_alias').on('rollouts').columns(['model', 'alias']).unique()
    .where(sql.ref('status'), '=', 'running').execute()

  await db.schema.createTable('rollout_observations')
    .addColumn('id', autoId, (c) => c.primaryKey())
    .addColumn('rollout_id', 'text', (c) => c.notNull().references('rollouts.id'))
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('weight', 'double precision', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    /** JSON text: `{candidate: {invocations, errors, p95Ms}, stable: {...}, passed, violations}` */
    .addColumn('figures', 'text', (c) => c.notNull())
    .execute()
  await db.schema.createIndex('rollout_observations_by_rollout').on('rollout_observations').columns(['rollout_id', 'id']).execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('rollout_observations').execute()
  await db.schema.dropTable('rollouts').execute()
}
