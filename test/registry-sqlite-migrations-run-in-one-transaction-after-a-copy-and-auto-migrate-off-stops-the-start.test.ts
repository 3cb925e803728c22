import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { sql, type Migration, type MigrationProvider } from 'kysely'
import t from 'tap'
import { buildApp } from '../src/api/app.js'
import { migrateDatabase, migrateToLatest, openDatabase, pendingMigrations, REGISTRY_MIGRATIONS } from '../src/registry/db.js'
import { build } from './helpers/app.js'
import { migrationsUpTo, testDatabaseUrl } from './helpers/registry.js'
import { S3_CREDENTIALS } from './helpers/s3.js'

/** Creates a table, changes a row, then fails: half a migration, which the transaction must undo. */
const failingHalfWay: Migration = {
  up: async (db) => {
    await db.schema.createTable('half_made').addColumn('id', 'integer').execute()
    await sql`update models set bucket = 'changed' where name = 'kept'`.execute(db)
    throw new Error('the migration fails half way')
  },
}

/** Every row of every table, as text: "the file as it was". */
function contents (file: string): string {
  const db = new Database(file, { readonly: true })
  try {
    const tables = db.prepare("select name from sqlite_master where type = 'table' order by name").all() as Array<{ name: string }>
    return JSON.stringify(tables.map(({ name }) => [name, db.prepare(`select * from "${name}"`).all()]))
  } finally {
    db.close()
  }
}

t.test('a migration that fails half way leaves the SQLite file as it was, and the copy exists', async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'modelpin-migration-'))
  t.teardown(() => rm(folder, { recursive: true, force: true }))
  const file = join(folder, 'registry.db')
  const database = await openDatabase(`sqlite:${file}`)
  t.teardown(() => database.close())
  t.same((await migrateDatabase(database, migrationsUpTo('0005-model-prewarm'))).backup, null, 'a new file is not copied')
  await database.db.insertInto('models').values({
    name: 'kept',
    bucket: 'b',
    weights_key: 'w',
    labels_key: 'l',
    function_name: null,
    function_alias: 'live',
    deploy_alias: 'production',
    gate_images: '[]',
    created_at: 'now',
    updated_at: 'now',
  }).execute()
  const before = contents(file)

  const failing: MigrationProvider = { getMigrations: async () => ({ ...REGISTRY_MIGRATIONS, '0006-token-lifecycle': REGISTRY_MIGRATIONS['0006-token-lifecycle']!, '9999-fails': failingHalfWay }) }
  await t.rejects(migrateDatabase(database, failing), { message: /^database migration 9999-fails failed: the migration fails half way/ })
  t.equal(contents(file), before, 'every table and row as before: 0006 and later were rolled back with the failing one')
  const after0005 = Object.keys(REGISTRY_MIGRATIONS).filter((name) => name > '0005-model-prewarm').sort()
  t.equal(after0005[0], '0006-token-lifecycle')
  t.same(await pendingMigrations(database.db), after0005)
  const backup = `${file}.pre-0006-token-lifecycle.bak`
  t.ok(existsSync(backup), 'the copy is named after the first pending migration')
  t.equal(contents(backup), before, 'the copy holds what the file held')

  const done = await migrateDatabase(database)
  t.same(done, { applied: after0005, backup }, 'a second attempt copies again and applies')
})

t.test('with MODELPIN_AUTO_MIGRATE=false a pending migration stops the start, naming npm run db:migrate', async (t) => {
  for (const kind of ['sqlite', 'postgres'] as const) {
    const folder = await mkdtemp(join(tmpdir(), 'modelpin-no-migrate-'))
    t.teardown(() => rm(folder, { recursive: true, force: true }))
    const databaseUrl = kind === 'postgres' ? await testDatabaseUrl(t, 'postgres') : `sqlite:${join(folder, 'registry.db')}`
    const database = await openDatabase(databaseUrl)
    await migrateToLatest(database.db, migrationsUpTo('0005-model-prewarm'))
    await database.close()

    const app = await build(t, { database: kind, dataDir: folder, config: { databaseUrl, autoMigrate: true } })
    await app.app.close()
    const migrated = await openDatabase(databaseUrl)
    t.same(await pendingMigrations(migrated.db), [], `${kind}: the default migrates at start-up`)
    await migrated.db.deleteFrom('kysely_migration' as never).where('name' as never, '=', '0006-token-lifecycle' as never).execute()
    await migrated.close()

    await t.rejects(buildApp({ ...app.config, autoMigrate: false }, { s3Credentials: S3_CREDENTIALS }),
      { message: /1 pending migration\(s\) \(0006-token-lifecycle\) and MODELPIN_AUTO_MIGRATE is false: run `npm run db:migrate`/ },
      `${kind}: refused, naming the migration and the command`)
  }
})

t.test('PostgreSQL connections carry the statement timeout, and a server that does not answer fails within the connect timeout', async (t) => {
  const url = await testDatabaseUrl(t, 'postgres')
  const database = await openDatabase(url, { pgStatementTimeoutMs: 250 })
  t.teardown(() => database.close())
  const { rows } = await sql<{ statement_timeout: string }>`show statement_timeout`.execute(database.db)
  t.equal(rows[0]?.statement_timeout, '250ms')
  await t.rejects(sql`select pg_sleep(5)`.execute(database.db), { message: /statement timeout/ }, 'a long statement is cancelled')

  // a listening socket that never answers: the connection attempt gives up at the timeout
  const { createServer } = await import('node:net')
  const silent = createServer(() => {})
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { silent.close() })
  const { port } = silent.address() as { port: number }
  const unreachable = await openDatabase(`postgres://postgres@127.0.0.1:${port}/test`, { pgConnectTimeoutMs: 300 })
  t.teardown(() => unreachable.close())
  await t.rejects(sql`select 1`.execute(unreachable.db), { message: /timeout/i })
})
