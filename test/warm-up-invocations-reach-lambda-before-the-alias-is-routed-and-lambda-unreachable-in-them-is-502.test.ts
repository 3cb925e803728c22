import t from 'tap'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { build } from './helpers/app.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

const INVOCATIONS = /^\/2015-03-31\/functions\/fn\/invocations/
const ALIAS = /^\/2015-03-31\/functions\/fn\/aliases\/live$/
const PATH = '/v1/models/m/aliases/production'

/**
 * The warm-up as Lambda sees it, through a fault-injecting proxy between the API's Lambda client and the local
 * runtime: its invocations of the target version arrive before the UpdateAlias that routes traffic to it, and
 * Lambda unreachable during them fails the move without routing anything.
 */
t.test('prewarm invocations of the new version come before UpdateAlias; a reset connection in them is 502 and routes nothing', async (t) => {
  const { runtime } = await startTestRuntime(t, {
    functions: [{ name: 'fn', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
  })
  const proxy = await startFaultProxy(t, runtime.url)
  const lambda = createLambdaClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  t.teardown(() => lambda.destroy())
  const app = await build(t, { deployer: new LambdaDeployer({ lambda }) })
  await app.modelWithReleases('m', 3, { functionName: 'fn', functionAlias: 'live', prewarm: 3 })
  t.equal((await app.api('POST', `${PATH}/promote`, { body: { release: 1 } })).status, 200)

  const started = new Set<string>()
  runtime.on('environment-started', (e) => started.add(`${e.version}/${e.environmentId}`))
  const seen = proxy.requests.length
  const promoted = await app.api('POST', `${PATH}/promote`, { body: { release: 2 } })
  t.equal(promoted.status, 200, promoted.text)
  const version = (await app.api('GET', PATH)).body.live.functionVersion as string
  const calls = proxy.requests.slice(seen).map((r) => `${r.method} ${r.path}`)
  const warmups = calls.flatMap((call, i) => call.startsWith('POST') && INVOCATIONS.test(call.slice(5)) ? [i] : [])
  const route = calls.findIndex((call) => call.startsWith('PUT') && ALIAS.test(call.slice(4)))
  t.equal(warmups.length, 3, 'three warm-up invocations')
  t.ok(calls.filter((_, i) => warmups.includes(i)).every((call) => call.includes(`Qualifier=${version}`)), 'each of the new version')
  t.ok(route > Math.max(...warmups), 'UpdateAlias came after every warm-up invocation')
  t.equal([...started].filter((key) => key.startsWith(`${version}/`)).length, 3, 'three environments of the new version started')

  const rule = proxy.add({ method: 'POST', path: INVOCATIONS, action: { kind: 'reset' } })
  const before = (await app.api('GET', PATH)).body
  const unreachable = await app.api('POST', `${PATH}/promote`, { body: { release: 3, reason: 'unreachable' } })
  rule.remove()
  t.match(unreachable, { status: 502, body: { error: { code: 'deploy_failed', message: /invoke/ } } })
  const after = (await app.api('GET', PATH)).body
  t.match(after, { release: before.release, revision: before.revision, live: { functionVersion: before.live.functionVersion } }, 'nothing moved')
  const history = (await app.api('GET', `${PATH}/history`)).body.history
  t.match(history[0], { action: 'promote', toRelease: 3, outcome: 'failed', reason: 'unreachable' })
})
