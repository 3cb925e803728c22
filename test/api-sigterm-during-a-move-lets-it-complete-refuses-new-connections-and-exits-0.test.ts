import { GetAliasCommand } from '@aws-sdk/client-lambda'
import { request } from 'node:http'
import t from 'tap'
import { callApi, seedModel, startApiProcess } from './helpers/api-process.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'
import { DATABASE_KINDS, testDatabaseUrl } from './helpers/registry.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'

/** The routing call of a move: UpdateAlias of the function's `live` alias. */
const ROUTE = /^\/2015-03-31\/functions\/classifier\/aliases\/live$/

/** Whether a new TCP connection to `url` is refused (a plain request without keep-alive pooling). */
function connectionRefused (url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false }, (res) => {
      res.resume()
      resolve(false)
    })
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
    req.end()
  })
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: SIGTERM while a promote waits on Lambda: the move completes and is recorded, then the process exits 0`, async (t) => {
    const { runtime, lambda } = await startTestRuntime(t, {
      functions: [{ name: 'classifier', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    })
    const proxy = await startFaultProxy(t, runtime.url)
    const s3 = testS3Client()
    t.teardown(() => s3.destroy())
    const bucket = await createTestBucket(t, s3)
    const databaseUrl = await testDatabaseUrl(t, kind)
    const api = await startApiProcess(t, { databaseUrl, lambdaEndpoint: proxy.url })
    await seedModel(api, 'resnet', bucket, 2, { functionName: 'classifier' })
    t.equal((await callApi(api, 'POST', '/v1/models/resnet/aliases/production/promote', { release: 1 })).status, 200)
    const before = await lambda.send(new GetAliasCommand({ FunctionName: 'classifier', Name: 'live' }))

    // the move's routing call waits at the proxy until the test lets it through
    let letThrough!: () => void
    const held = proxy.add({ method: 'PUT', path: ROUTE, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { letThrough = resolve }) })
    const promoting = callApi(api, 'POST', '/v1/models/resnet/aliases/production/promote', { release: 2, reason: 'before the stop' })
    await held.matched()

    api.kill('SIGTERM')
    await api.waitForLog((entry) => entry.msg === 'draining: waiting for the requests in flight')
    t.ok(await connectionRefused(api.url), 'a new connection during the drain is refused')
    t.equal((await lambda.send(new GetAliasCommand({ FunctionName: 'classifier', Name: 'live' }))).FunctionVersion, before.FunctionVersion,
      'Lambda has not moved yet')

    letThrough()
    const promoted = await promoting
    t.equal(promoted.status, 200, 'the move in flight is answered')
    t.match(promoted.body, { alias: 'production', release: 2, revision: 2 })
    t.same(await api.exited, { code: 0, signal: null }, 'then the process exits 0')

    const routed = await lambda.send(new GetAliasCommand({ FunctionName: 'classifier', Name: 'live' }))
    t.not(routed.FunctionVersion, before.FunctionVersion, 'Lambda serves the new version')

    // what the stopped process left behind, read by a new one on the same data (straight to Lambda)
    const again = await startApiProcess(t, { ...api.options, lambdaEndpoint: runtime.url })
    t.match((await callApi(again, 'GET', '/v1/models/resnet/aliases/production')).body, {
      release: 2, revision: 2, drift: false, live: { functionVersion: routed.FunctionVersion, release: 2 },
    }, 'the registry and Lambda agree')
    t.match((await callApi(again, 'GET', '/v1/models/resnet/aliases/production/history')).body.history, [
      { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'succeeded', reason: 'before the stop' },
      { action: 'promote', toRelease: 1, outcome: 'succeeded' },
    ])
    t.equal((await callApi(again, 'POST', '/v1/models/resnet/aliases/production/rollback', {}, { 'if-match': '"2"' })).status, 200,
      'the move released its lock: the alias moves again at once')
  })
}
