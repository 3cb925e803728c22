import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { build, type TestApp } from './helpers/app.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

const PATH = '/v1/models/m/aliases/production'
const GET_ALIAS = /^\/2015-03-31\/functions\/fn\/aliases\/live$/
const VERSION_CONFIGURATION = /^\/2015-03-31\/functions\/fn\/configuration\?Qualifier=\d+$/
/** long enough that no cached read expires during the test: what it proves holds for any TTL */
const LIVE_CACHE_MS = 600_000

/** The value of one sample of /metrics, 0 when absent. */
async function metric (app: TestApp, sample: string): Promise<number> {
  const text = (await app.api('GET', '/metrics', { token: null })).text
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `))
  return line === undefined ? 0 : Number(line.split(' ')[1])
}

/**
 * Alias views read Lambda through a per-process cache, counted at a proxy in front of the local runtime: concurrent
 * readers share one GetAlias, a published version's configuration is read once, a move's reads refresh it, and a
 * registry revision newer than the cached read's makes the next view read Lambda again.
 */
for (const database of ['sqlite', 'postgres'] as const) {
  t.test(`${database}: alias reads share one Lambda read; moves and newer registry revisions read Lambda again`, async (t) => {
    const { runtime, lambda: direct } = await startTestRuntime(t, {
      functions: [{ name: 'fn', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    })
    const proxy = await startFaultProxy(t, runtime.url)
    const lambda = createLambdaClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
    t.teardown(() => lambda.destroy())
    const app = await build(t, { database, deployer: new LambdaDeployer({ lambda }), config: { liveCacheMs: LIVE_CACHE_MS, reconcileSeconds: 86400 } })
    await app.modelWithReleases('m', 2, { functionName: 'fn', functionAlias: 'live' })
    t.equal((await app.api('POST', `${PATH}/promote`, { body: { release: 1 } })).status, 200)
    const version1 = (await direct.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).FunctionVersion!

    const calls = (): { getAlias: number, configuration: number } =>
      ({ getAlias: proxy.count('GET', GET_ALIAS), configuration: proxy.count('GET', VERSION_CONFIGURATION) })
    const readAll = async (n: number): Promise<Array<{ release: number, revision: number, drift: boolean, live: { functionVersion: string } }>> => {
      const answers = await Promise.all(Array.from({ length: n }, async () => await app.api('GET', PATH)))
      for (const answer of answers) t.equal(answer.status, 200, answer.text)
      return answers.map((answer) => answer.body)
    }

    let before = calls()
    const metricBefore = await metric(app, 'modelpin_lambda_calls_total{operation="GetAlias"}')
    const first = await readAll(50)
    t.ok(first.every((view) => view.live.functionVersion === version1 && view.release === 1 && !view.drift), 'every reader sees release 1')
    let after = calls()
    t.ok(after.getAlias - before.getAlias <= 1, `50 concurrent reads made ${after.getAlias - before.getAlias} GetAlias`)
    t.ok(after.configuration - before.configuration <= 1, 'and read the version\'s configuration at most once')
    t.equal(await metric(app, 'modelpin_lambda_calls_total{operation="GetAlias"}') - metricBefore, after.getAlias - before.getAlias,
      '/metrics counts the GetAlias calls Lambda received')

    before = after
    await readAll(50)
    after = calls()
    t.same(after, before, 'later reads within the TTL ask Lambda nothing')

    // a move refreshes the cache: the next read shows the new version although the TTL is far from over
    const promoted = await app.api('POST', `${PATH}/promote`, { body: { release: 2 } })
    t.equal(promoted.status, 200)
    const version2 = (await direct.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).FunctionVersion!
    t.not(version2, version1)
    const moved = await readAll(10)
    t.ok(moved.every((view) => view.live.functionVersion === version2 && view.release === 2 && !view.drift), 'every reader sees release 2 at once')

    // Lambda moved behind this process's back, with no newer registry revision: the cached read still answers
    before = calls()
    await direct.send(new UpdateAliasCommand({ FunctionName: 'fn', Name: 'live', FunctionVersion: version1 }))
    const cached = await readAll(10)
    t.ok(cached.every((view) => view.live.functionVersion === version2), 'within the TTL, the cached read answers')
    t.same(calls(), before, 'without asking Lambda')

    // another replica committed a move (the registry's revision is newer than the cached read's): read again
    const revision = cached[0]!.revision
    await app.app.database.db.updateTable('aliases')
      .set({ release: 1, revision: revision + 1, function_version: version1 })
      .where('model', '=', 'm').where('name', '=', 'production').execute()
    const reread = await readAll(50)
    t.ok(reread.every((view) => view.live.functionVersion === version1 && view.release === 1 && view.revision === revision + 1 && !view.drift),
      'the next readers see what Lambda serves now')
    after = calls()
    t.equal(after.getAlias - before.getAlias, 1, 'one GetAlias for all 50 readers')
    t.equal(after.configuration - before.configuration, 0, 'published versions\' configurations are never read twice')
  })
}
