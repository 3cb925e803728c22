import t from 'tap'
import { migrateToLatest, openDatabase, pingDatabase, REGISTRY_MIGRATIONS } from '../src/registry/db.js'
import { DATABASE_KINDS, openTestDatabase, testDatabaseUrl } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: migrations apply once, create every table, and a second run applies nothing`, async (t) => {
    const database = await openTestDatabase(t, kind, { migrate: false })
    t.equal(database.dialect, kind)
    await pingDatabase(database.db)

    t.same(await migrateToLatest(database.db), ['0001-registry', '0002-artifact-digests', '0003-model-version-and-function-alias-owners', '0004-alias-lock-owners-and-intended-moves', '0005-model-prewarm', '0006-token-lifecycle', '0007-evaluations-and-promotion-policy', '0008-rollouts'])
    t.same(await migrateToLatest(database.db), [])

    const tables = (await database.db.introspection.getTables()).map((table) => table.name).sort()
    t.same(tables, ['alias_history', 'aliases', 'api_tokens', 'artifact_digests', 'deployments', 'evaluation_inputs', 'evaluations', 'function_alias_owners', 'models', 'releases', 'rollout_observations', 'rollouts'])
  })
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: migration 0007 keeps the models it finds, with no promotion policy, and stores evaluations with their inputs`, async (t) => {
    const database = await openTestDatabase(t, kind, { migrate: false })
    const before = Object.fromEntries(Object.entries(REGISTRY_MIGRATIONS).filter(([name]) => name < '0007'))
    await migrateToLatest(database.db, { getMigrations: async () => before })
    const now = new Date().toISOString()
    await database.db.insertInto('models').values({
      name: 'old',
      bucket: 'b',
      weights_key: 'w',
      labels_key: 'l',
      function_name: 'fn',
      function_alias: 'live',
      deploy_alias: 'production',
      gate_images: '[]',
      created_at: now,
      updated_at: now,
    } as never).execute()
    t.same(await migrateToLatest(database.db), ['0007-evaluations-and-promotion-policy', '0008-rollouts'])
    const model = await database.db.selectFrom('models').selectAll().where('name', '=', 'old').executeTakeFirstOrThrow()
    t.equal(model.promotion_policy, null, 'an existing model has no policy')
    await database.db.insertInto('evaluations').values({
      id: 'e1',
      model: 'old',
      candidate: 2,
      baseline: 1,
      status: 'running',
      failure: null,
      reason: null,
      actor: 'a',
      started_at: now,
      finished_at: null,
      input_bucket: 'in',
      input_prefix: '',
      input_count: 1,
      figures: null,
      lease_token: null,
      lease_owner: null,
      lease_expires_at: null,
    }).execute()
    await database.db.insertInto('evaluation_inputs').values({ evaluation: 'e1', position: 0, key: 'k', version_id: null, baseline_answer: null, candidate_answer: null }).execute()
    await t.rejects(database.db.insertInto('evaluation_inputs').values({ evaluation: 'e1', position: 0, key: 'k2', version_id: null, baseline_answer: null, candidate_answer: null }).execute(),
      'one row per input position')
    t.equal((await database.db.selectFrom('evaluation_inputs').selectAll().execute()).length, 1)
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
