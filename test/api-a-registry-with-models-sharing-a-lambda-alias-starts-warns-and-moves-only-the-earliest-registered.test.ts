import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import { LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { migrateToLatest, openDatabase } from '../src/registry/db.js'
import { build, type TestApp } from './helpers/app.js'
import { snapshotTables } from './helpers/database-snapshot.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'
import { DATABASE_KINDS, migrationsUpTo, testDatabaseUrl } from './helpers/registry.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'

/** A pino logger whose JSON lines are kept for the test to read. */
function capturingLogger (): { logger: pino.Logger, lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter((text) => text !== '')) lines.push(JSON.parse(line))
      done()
    },
  })
  return { logger: pino({ level: 'warn' }, stream), lines }
}

/** Labels and one release of a model already registered, through the API. */
async function releaseOf (app: TestApp, model: string): Promise<void> {
  const labels = await app.upload(model, 'labels', 'cat\ndog\n')
  const weights = await app.upload(model, 'weights', `weights of ${model}`)
  const release = await app.api('POST', `/v1/models/${model}/releases`, {
    body: { weightsVersionId: weights.body.versionId, labelsVersionId: labels.body.versionId },
  })
  if (release.status !== 201) throw new Error(`release of ${model}: ${release.text}`)
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a registry from before one owner per Lambda alias starts, warns, and refuses moves of the later models only`, async (t) => {
    // The database as modelpin left it before migration 0003: three models on classifier:live, registered in the
    // order of their names.
    const databaseUrl = await testDatabaseUrl(t, kind)
    const s3 = testS3Client()
    t.teardown(() => { s3.destroy() })
    const bucket = await createTestBucket(t, s3)
    const old = await openDatabase(databaseUrl)
    await migrateToLatest(old.db, migrationsUpTo('0002-artifact-digests'))
    await old.db.insertInto('models').values([
      ['earlier', '2025-01-01T00:00:00.000Z'], ['later', '2025-02-01T00:00:00.000Z'], ['latest', '2025-03-01T00:00:00.000Z'],
    ].map(([name, at]) => ({
      name: name!,
      bucket,
      weights_key: `${name!}/model.onnx`,
      labels_key: `${name!}/labels.txt`,
      function_name: 'classifier',
      function_alias: 'live',
      deploy_alias: 'production',
      gate_images: '[]',
      created_at: at!,
      updated_at: at!,
    }))).execute()
    await old.close()

    const { lambda } = await startTestRuntime(t, {
      functions: [{ name: 'classifier', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {} }],
    })
    const { lines, logger } = capturingLogger()
    const app = await build(t, { config: { databaseUrl }, logger, deployer: new LambdaDeployer({ lambda }) })
    const warnings = lines.filter((line) => line.level === 40 && line.functionName === 'classifier')
    t.equal(warnings.length, 1, 'one warning at start-up for the shared Lambda alias')
    t.match(warnings[0], {
      functionName: 'classifier',
      functionAlias: 'live',
      owner: 'earlier',
      models: ['earlier', 'later', 'latest'],
      refused: ['later', 'latest'],
      msg: /models earlier, later, latest share Lambda alias live of function classifier: only earlier may move; moves of later, latest are refused/,
    })

    const { api } = app
    t.match((await api('GET', '/v1/models/later')).body, { functionName: 'classifier', functionAlias: 'live', version: 1 }, 'the later model keeps its data')
    await releaseOf(app, 'earlier')
    await releaseOf(app, 'later')
    await releaseOf(app, 'latest')
    t.same(await app.app.database.db.selectFrom('function_alias_owners').selectAll().execute(),
      [{ function_name: 'classifier', function_alias: 'live', model: 'earlier' }], 'the migration gave the pair to the earliest-registered model')

    const db = app.app.database.db
    const before = await snapshotTables(db)
    const moves = [
      ['promote', () => api('POST', '/v1/models/later/aliases/production/promote', { body: { release: 1 } })],
      ['promote of a registry-only alias', () => api('POST', '/v1/models/later/aliases/staging/promote', { body: { release: 1 } })],
      ['rollback', () => api('POST', '/v1/models/later/aliases/production/rollback', { body: {} })],
      ['canary', () => api('POST', '/v1/models/later/aliases/production/canary', { body: { release: 1, weight: 0.5 } })],
      ['canary promote', () => api('POST', '/v1/models/later/aliases/production/canary/promote', { body: {} })],
      ['canary abort', () => api('DELETE', '/v1/models/later/aliases/production/canary', { body: {} })],
    ] as const
    for (const [what, send] of moves) {
      const answer = await send()
      t.equal(answer.status, 409, `${what} of the later model: 409`)
      t.match(answer.body, {
        error: { code: 'function_alias_taken', message: /driven by model earlier: model later cannot move until it gets a functionAlias of its own/ },
      }, what)
    }
    t.same(await snapshotTables(db), before, 'the refused moves wrote nothing: no alias, no history')

    const promoted = await api('POST', '/v1/models/earlier/aliases/production/promote', { body: { release: 1 } })
    t.match(promoted, { status: 200, body: { release: 1, revision: 1 } }, 'the earlier model still moves')
    t.match((await api('GET', '/v1/models/earlier/aliases/production')).body, { drift: false, live: { functionAlias: 'live', release: 1 } })

    // the way out: a Lambda alias of its own
    t.match(await api('PATCH', '/v1/models/later', { body: { functionAlias: 'later' } }), { status: 200, body: { version: 2 } })
    t.match(await api('POST', '/v1/models/later/aliases/production/promote', { body: { release: 1 } }),
      { status: 200, body: { release: 1 } }, 'the later model moves once it has its own Lambda alias')
    t.match((await api('GET', '/v1/models/later/aliases/production')).body, { drift: false, live: { functionAlias: 'later', release: 1 } })
    t.match(await api('POST', '/v1/models/latest/aliases/production/promote', { body: { release: 1 } }),
      { status: 409, body: { error: { code: 'function_alias_taken' } } }, 'latest still shares earlier\'s')

    // the owner leaves: the earliest-registered model still on the pair takes it over
    t.match(await api('PATCH', '/v1/models/earlier', { body: { functionAlias: 'earlier' } }), { status: 200 })
    t.match(await api('POST', '/v1/models/latest/aliases/production/promote', { body: { release: 1 } }),
      { status: 200, body: { release: 1 } }, 'latest moves once it is the only model on classifier:live')
    t.match((await api('GET', '/v1/models/latest/aliases/production')).body, { drift: false, live: { functionAlias: 'live', release: 1 } })
  })
}
