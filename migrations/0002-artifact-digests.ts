import type { Kysely } from 'kysely'

/**
 * The digests the registry knows of S3 object versions (from uploads through the API and from release
 * registration), so that a listing of versions reads them in one query instead of one HEAD per version. Versions
 * are immutable, so a row never changes. Kysely's schema and query builders only: the same file runs on SQLite and
 * PostgreSQL.
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.createTable('artifact_digests')
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('artifact_digests_pk', ['bucket', 'key', 'version_id'])
    .execute()

  // Releases registered before this table existed already recorded the digests of their versions: keep listing them.
  const now = new Date().toISOString()
  for (const kind of ['weights', 'labels'] as const) {
    await db.insertInto('artifact_digests')
      .columns(['bucket', 'key', 'version_id', 'sha256', 'size', 'recorded_at'])
      .expression((eb) => eb.selectFrom('releases')
        .innerJoin('models', 'models.name', 'releases.model')
        .select([
          'models.bucket',
          `models.${kind}_key`,
          `releases.${kind}_version_id`,
          `releases.${kind}_sha256`,
          `releases.${kind}_size`,
          eb.val(now).as('recorded_at'),
        ])
        // SQLite reads `ON CONFLICT` after a join as part of the join unless the select has a WHERE clause
        .where(`releases.${kind}_sha256`, 'is not', null))
      // two releases (or two models over the same objects) may name one version
      .onConflict((conflict) => conflict.columns(['bucket', 'key', 'version_id']).doNothing())
      .execute()
  }
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('artifact_digests').execute()
}
