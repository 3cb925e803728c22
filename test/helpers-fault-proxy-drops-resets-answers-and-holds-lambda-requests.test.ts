import {
  CreateAliasCommand, GetAliasCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2, type LambdaClient,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, lambdaClient, startTestRuntime } from './helpers/lambda-runtime.js'

const UPDATE_ALIAS = /^\/2015-03-31\/functions\/echo\/aliases\/live$/
const VERSIONS = /^\/2015-03-31\/functions\/echo\/versions/

/** A runtime with function echo, versions 1 and 2 and alias live on 1; a proxy in front of it and a client through it. */
async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const { runtime, lambda: direct } = await startTestRuntime(t, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
  })
  await direct.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await direct.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))
  await waitUntilFunctionUpdatedV2({ client: direct, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  await direct.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await direct.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1' }))
  const proxy = await startFaultProxy(t, runtime.url)
  const lambda = lambdaClient(proxy.url)
  t.teardown(() => lambda.destroy())
  return { direct, proxy, lambda }
}

async function aliasVersion (lambda: LambdaClient): Promise<string | undefined> {
  return (await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))).FunctionVersion
}

t.test('with no rule every request passes through and is logged', async (t) => {
  const { proxy, lambda } = await setup(t)
  t.equal(await aliasVersion(lambda), '1')
  t.same(proxy.requests, [{ method: 'GET', path: '/2015-03-31/functions/echo/aliases/live', action: 'pass' }])
})

t.test('drop-reply: the upstream applies the update, the client gets no answer', async (t) => {
  const { direct, proxy, lambda } = await setup(t)
  const rule = proxy.add({ method: 'PUT', path: UPDATE_ALIAS, action: { kind: 'drop-reply' }, times: 1 })
  const failed = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '2' }))
    .catch((e: unknown) => e)
  t.ok(failed instanceof Error, 'the client saw an error')
  t.notOk((failed as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 'and no HTTP answer')
  t.equal(await aliasVersion(direct), '2', 'the runtime applied it')
  t.equal(rule.hits, 1)
  t.notOk(rule.active, 'a one-shot rule retires after its request')
  t.equal(await aliasVersion(lambda), '2', 'the next request passes again')
})

t.test('reset: the connection is cut before the upstream sees the request', async (t) => {
  const { direct, proxy, lambda } = await setup(t)
  proxy.add({ method: 'PUT', path: UPDATE_ALIAS, action: { kind: 'reset' } })
  for (let i = 0; i < 2; i++) {
    const failed = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '2' }))
      .catch((e: unknown) => e)
    t.match(failed, { code: /ECONNRESET|EPIPE/ }, 'a persistent rule resets every try')
  }
  t.equal(await aliasVersion(direct), '1', 'the runtime never saw it')
  t.equal(proxy.count('PUT', UPDATE_ALIAS), 2)
})

t.test('answer: PublishVersion gets the given 500 without reaching the runtime; clear() lets it through', async (t) => {
  const { proxy, lambda } = await setup(t)
  proxy.add({
    method: 'POST',
    path: VERSIONS,
    action: { kind: 'answer', status: 500, body: { Type: 'Service', Message: 'injected' }, headers: { 'x-amzn-errortype': 'ServiceException' } },
  })
  const failed = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' })).catch((e: unknown) => e)
  t.match(failed, { name: 'ServiceException', $metadata: { httpStatusCode: 500 } })
  proxy.clear()
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'three' } } }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  const published = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  t.equal(published.Version, '3', 'the refused publish created no version')
})

t.test('a held request is forwarded once its gate opens, and matched() tells when it arrived', async (t) => {
  const { direct, proxy, lambda } = await setup(t)
  let open!: () => void
  const gate = new Promise<void>((resolve) => { open = resolve })
  const rule = proxy.add({ method: 'PUT', path: UPDATE_ALIAS, action: { kind: 'forward' }, until: gate, delayMs: 10 })
  const update = lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '2' }))
  await rule.matched()
  t.equal(await aliasVersion(direct), '1', 'held: the runtime has not seen it yet')
  open()
  t.equal((await update).FunctionVersion, '2')
  t.equal(await aliasVersion(direct), '2')
})
