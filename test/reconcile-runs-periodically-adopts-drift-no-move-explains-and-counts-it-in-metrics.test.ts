import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { AliasLocks } from '../src/registry/alias-locks.js'
import { build, type TestApp } from './helpers/app.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'
import { waitFor } from './helpers/move-world.js'

const PATH = '/v1/models/m/aliases/production'

/** The value of one sample of /metrics, 0 when absent. */
async function metric (app: TestApp, sample: string): Promise<number> {
  const text = (await app.api('GET', '/metrics', { token: null })).text
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.split(' ')[1])
}

for (const database of ['sqlite', 'postgres'] as const) {
  t.test(`${database}: every process reconciles periodically, adopting drift no recorded move explains, and /metrics counts it`, async (t) => {
    const { lambda } = await startTestRuntime(t, {
      functions: [{ name: 'fn', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    })
    const app = await build(t, { database, deployer: new LambdaDeployer({ lambda }), config: { reconcileSeconds: 1, lockTtlSeconds: 2 } })
    await app.modelWithReleases('m', 2, { functionName: 'fn', functionAlias: 'live' })
    t.equal((await app.api('POST', `${PATH}/promote`, { body: { release: 1 } })).status, 200)
    const version1 = (await lambda.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).FunctionVersion!
    t.equal((await app.api('POST', `${PATH}/promote`, { body: { release: 2 } })).status, 200)
    t.equal(await metric(app, 'modelpin_reconcile_adoptions_total'), 0)

    // someone moves the Lambda alias by hand: no move of the registry explains it
    await lambda.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: version1 }))
    const history = await waitFor(async () => {
      const entries = (await app.api('GET', `${PATH}/history`)).body.history
      return entries[0].action === 'reconcile' ? entries : undefined
    }, 30_000)
    t.match(history[0], { action: 'reconcile', fromRelease: 2, toRelease: 1, outcome: 'succeeded' })
    t.match((await app.api('GET', PATH)).body, { release: 1, drift: false, live: { functionVersion: version1 } })
    t.equal(await metric(app, 'modelpin_reconcile_adoptions_total'), 1, 'one adoption counted')
    t.equal(await metric(app, 'modelpin_alias_drift{model="m",alias="production"}'), 0, 'no drift left')

    // a lock its holder stopped renewing is taken over by the next reconcile and counted
    const dead = new AliasLocks(app.app.database.db, { ttlMs: -1000, owner: 'dead-host:1' })
    await dead.claim('m', 'production')
    // the take-over is counted when settling starts; the lock is freed once settling (fence, entry) is done
    const lockToken = async (): Promise<string | null> =>
      (await app.app.database.db.selectFrom('aliases').select('lock_token').where('model', '=', 'm').executeTakeFirstOrThrow()).lock_token
    await waitFor(async () => (await metric(app, 'modelpin_lock_takeovers_total')) === 1 && await lockToken() === null ? true : undefined, 30_000)
    t.equal(await lockToken(), null, 'the abandoned lock is free again')
    t.equal(await metric(app, 'modelpin_lock_takeovers_total'), 1, 'one take-over counted')
    t.equal((await app.api('GET', `${PATH}/history`)).body.history.length, history.length, 'a lock with no intended move settles with no entry')
  })
}
