import t from 'tap'
import { migrateToLatest, openDatabase, pingDatabase } from '../src/registry/db.js'
import { DATABASE_KINDS, openTestDatabase, testDatabaseUrl } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: migrations apply once, create every table, and a second run applies nothing`, async (t) => {
    const database = await openTestDatabase(t, kind, { migrate: false })
    t.equal(database.dialect, kind)
    await pingDatabase(database.db)

    t.same(await migrateToLatest(database.db), ['0001-registry', '0002-artifact-digests', '0003-model-version-and-function-alias-owners', '0004-alias-lock-owners-and-intended-moves', '0005-model-prewarm', '0006-token-lifecycle'])
    t.same(await migrateToLatest(database.db), [])

    const tables = (await database.db.introspection.getTables()).map((table) => table.name).sort()
    t.same(tables, ['alias_history', 'aliases', 'api_tokens', 'artifact_digests', 'deployments', 'function_alias_owners', 'models', 'releases'])
  })
}

t.test('a plain path opens a SQLite file and creates its folder', async (t) => {
  const url = await testDatabaseUrl(t, 'sqlite')
  const database = await openDatabase(url.slice('sqlite:'.length).replace('registry.db', 'deeper/folder/registry.db'))
  t.teardown(() => database.close())
  t.equal(database.dialect, 'sqlite')
  t.ok((await migrateToLatest(database.db)).length > 0)
})

t.test('a failing migration is named in the error', async (t) => {
  const database = await openDatabase('sqlite::memory:')
  t.teardown(() => database.close())
  const provider = {
    getMigrations: async () => ({
      '0001-fine': { up: async () => {} },
      '0002-broken': { up: async () => { throw new Error('boom') } },
    }),
  }
  await t.rejects(migrateToLatest(database.db, provider), /0002-broken failed: boom/)
})
