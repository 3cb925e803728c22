import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import t, { type Test } from 'tap'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { build, type TestApp } from './helpers/app.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

const ALIAS = /^\/2015-03-31\/functions\/fn\/aliases\/live$/
const VERSIONS = /^\/2015-03-31\/functions\/fn\/versions$/
const PATH = '/v1/models/m/aliases/production'
/** Only turns a settlement that never comes into a failure; the test waits on the history itself. */
const SETTLE_LIMIT_MS = 60_000

/**
 * A move whose Lambda calls fail halfway: the reply to UpdateAlias lost after the runtime applied it, the connection
 * reset, PublishVersion answering 500, and the read-back failing too. In each case the answer, the history and what
 * Lambda serves agree, through a fault-injecting proxy between the API's Lambda client (the production one, with its
 * retry) and the local runtime.
 */
for (const kind of ['sqlite', 'postgres'] as const) {
  t.test(`${kind}: answers, history and Lambda agree when Lambda calls fail halfway`, async (t) => {
    const { runtime, lambda: direct } = await startTestRuntime(t, {
      functions: [{ name: 'fn', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    })
    const proxy = await startFaultProxy(t, runtime.url)
    const lambda = createLambdaClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
    t.teardown(() => lambda.destroy())
    const app = await build(t, { database: kind, deployer: new LambdaDeployer({ lambda }), config: { lockTtlSeconds: 2, reconcileSeconds: 1 } })
    await app.modelWithReleases('m', 3, { functionName: 'fn', functionAlias: 'live' })
    t.equal((await app.api('POST', `${PATH}/promote`, { body: { release: 1 } })).status, 200)

    t.test('the reply to UpdateAlias is lost after the runtime applied it: 200, confirmed by read-back', async (t) => {
      proxy.add({ method: 'PUT', path: ALIAS, action: { kind: 'drop-reply' }, times: 1 })
      const answer = await app.api('POST', `${PATH}/promote`, { body: { release: 2, reason: 'lost reply' } })
      t.equal(answer.status, 200, answer.text)
      t.match((await history(app))[0], { action: 'promote', toRelease: 2, outcome: 'succeeded', reason: 'lost reply', detail: /confirmed by read-back/ })
      await agree(t, app, direct, 2)
    })

    t.test('the connection to UpdateAlias is reset on every try: 502, failed, nothing moved', async (t) => {
      const rule = proxy.add({ method: 'PUT', path: ALIAS, action: { kind: 'reset' } })
      t.teardown(rule.remove)
      const answer = await app.api('POST', `${PATH}/promote`, { body: { release: 1, reason: 'reset' } })
      rule.remove()
      t.match(answer, { status: 502, body: { error: { code: 'deploy_failed', message: /update-alias/ } } })
      t.match((await history(app))[0], { action: 'promote', toRelease: 1, outcome: 'failed', reason: 'reset' })
      await agree(t, app, direct, 2)
    })

    t.test('PublishVersion answers 500: 502, failed, nothing moved', async (t) => {
      const rule = proxy.add({
        method: 'POST',
        path: VERSIONS,
        action: { kind: 'answer', status: 500, body: { Type: 'Service', Message: 'injected' }, headers: { 'x-amzn-errortype': 'ServiceException' } },
      })
      t.teardown(rule.remove)
      const answer = await app.api('POST', `${PATH}/promote`, { body: { release: 3, reason: 'publish fails' } })
      rule.remove()
      t.match(answer, { status: 502, body: { error: { code: 'deploy_failed', message: /publish-version/ } } })
      t.match((await history(app))[0], { action: 'promote', toRelease: 3, outcome: 'failed', reason: 'publish fails', detail: /publish-version/ })
      await agree(t, app, direct, 2)
    })

    t.test('UpdateAlias applied, its reply lost and the read-back failing too: 503, then one entry settled by reconcile', async (t) => {
      const before = (await history(app)).length
      const update = proxy.add({ method: 'PUT', path: ALIAS, action: { kind: 'drop-reply' }, times: 2 })
      let readBack: { remove: () => void } | undefined
      update.matched().then(() => {
        readBack = proxy.add({
          method: 'GET',
          path: ALIAS,
          action: { kind: 'answer', status: 500, body: { Type: 'Service', Message: 'injected' }, headers: { 'x-amzn-errortype': 'ServiceException' } },
        })
      })
      const answer = await app.api('POST', `${PATH}/promote`, { body: { release: 3, reason: 'unknown outcome' } })
      const answered = Date.now()
      readBack?.remove()
      update.remove()
      t.match(answer, { status: 503, body: { error: { code: 'outcome_unknown' } } }, answer.text)
      t.match(answer.headers['retry-after'], /^\d+$/, 'Retry-After says when to look again')
      t.equal((await history(app)).length, before, 'no entry while the outcome is unknown')

      const settled = await waitFor(async () => {
        const entries = await history(app)
        return entries.length > before ? entries : undefined
      })
      t.comment(`settled ${Date.now() - answered} ms after the 503 (lock TTL 2 s, reconcile every 1 s)`)
      t.equal(settled.length, before + 1, 'exactly one entry for the move')
      t.match(settled[0], { action: 'promote', toRelease: 3, reason: 'unknown outcome', outcome: 'succeeded', detail: /^settled by reconcile/ })
      t.equal(settled[0].actor, settled[1].actor, 'the original actor')
      await agree(t, app, direct, 3)
    })

    t.test('Lambda routed but the commit fails: 503, then one entry settled by reconcile', { skip: kind === 'postgres' ? 'SQLite\'s write lock makes the commit fail for real' : false }, async (t) => {
      const before = (await history(app)).length
      let open!: () => void
      const held = proxy.add({ method: 'PUT', path: ALIAS, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { open = resolve }), times: 1 })
      const answer = app.api('POST', `${PATH}/promote`, { body: { release: 2, reason: 'commit fails' } })
      await held.matched()
      // another connection holds SQLite's write lock while Lambda is routed: the commit waits, then fails
      const sqlite = new Database(join(app.dataDir, 'registry.db'))
      t.teardown(() => { if (sqlite.open) sqlite.close() })
      sqlite.exec('BEGIN IMMEDIATE')
      open()
      const refused = await answer
      sqlite.exec('ROLLBACK')
      sqlite.close()
      t.match(refused, { status: 503, body: { error: { code: 'outcome_unknown' } } }, refused.text)
      const settled = await waitFor(async () => {
        const entries = await history(app)
        return entries.length > before ? entries : undefined
      })
      t.equal(settled.length, before + 1, 'exactly one entry for the move')
      t.match(settled[0], { action: 'promote', toRelease: 2, reason: 'commit fails', outcome: 'succeeded', detail: /^settled by reconcile/ })
      await agree(t, app, direct, 2)
    })
  })
}

async function history (app: TestApp): Promise<any[]> {
  return (await app.api('GET', `${PATH}/history`)).body.history
}

/** The registry's alias, what it reads from Lambda, and Lambda itself (read around the proxy) all name `release`. */
async function agree (t: Test, app: TestApp, direct: LambdaClient, release: number): Promise<void> {
  const alias = (await app.api('GET', PATH)).body
  const lambda = await direct.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))
  t.match(alias, { release, drift: false, live: { release, functionVersion: lambda.FunctionVersion } }, `registry and Lambda both serve release ${release}`)
}

async function waitFor<T> (check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + SETTLE_LIMIT_MS
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`not settled within ${SETTLE_LIMIT_MS} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
