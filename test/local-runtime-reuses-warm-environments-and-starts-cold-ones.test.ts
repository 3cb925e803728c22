import { InvokeCommand, PublishVersionCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type LambdaClient } from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime, waitForRuntimeEvent } from './helpers/lambda-runtime.js'

const echo = (environment: Record<string, string> = {}, maxConcurrency?: number) => ({
  name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'handler', environment, ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
})

async function invoke (lambda: LambdaClient, event: unknown, qualifier?: string) {
  const response = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: qualifier, Payload: JSON.stringify(event) }))
  return { response, body: payloadOf(response.Payload) }
}

t.test('the second invocation runs warm in the first one\'s environment, with its module state', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo()] })
  const invocations: { coldStart: boolean, environmentId: string, initDurationMs: number | undefined }[] = []
  runtime.on('invocation', (record) => invocations.push(record))

  const first = await invoke(lambda, { n: 1 })
  const second = await invoke(lambda, { n: 2 })
  t.equal(first.body.coldStart, true)
  t.equal(first.body.invocations, 1)
  t.equal(second.body.coldStart, false)
  t.equal(second.body.invocations, 2, 'module state survived')
  t.equal(second.body.environmentId, first.body.environmentId, 'same environment')
  t.same(invocations.map((i) => i.coldStart), [true, false])
  t.ok((invocations[0]?.initDurationMs ?? 0) > 0, 'the cold start reports its init duration')
  t.equal(invocations[1]?.initDurationMs, undefined)
  t.equal(invocations[0]?.environmentId, invocations[1]?.environmentId)
  t.match(runtime.stats().versions, [{ functionName: 'echo', version: '$LATEST', environmentsStarted: 1, environmentsAlive: 1, invocations: 2, coldStarts: 1 }])

  t.equal(first.body.env.AWS_LAMBDA_FUNCTION_NAME, 'echo')
  t.equal(first.body.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '128')
  t.equal(first.body.env.AWS_REGION, 'us-east-1')
  t.match(first.body.env.AWS_EXECUTION_ENV, /^AWS_Lambda_nodejs\d+\.x$/)
  t.equal(first.body.context.memoryLimitInMB, '128')
  t.ok(first.body.context.remainingMs > 0 && first.body.context.remainingMs <= 3000, 'getRemainingTimeInMillis counts down from the timeout')
  t.match(first.body.context.logStreamName, /^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/)
})

t.test('a newly published version, and a changed $LATEST, start new environments', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo({ GREETING: 'one' })] })
  const latest = await invoke(lambda, {})
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  const v1 = await invoke(lambda, {}, '1')
  t.equal(v1.body.coldStart, true)
  t.not(v1.body.environmentId, latest.body.environmentId)
  t.equal((await invoke(lambda, {}, '1')).body.environmentId, v1.body.environmentId, 'version 1 then runs warm')

  const retired = waitForRuntimeEvent(runtime, 'environment-stopped', (e) => e.version === '$LATEST')
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))
  const [stopped] = await retired
  t.equal(stopped.reason, 'retired', 'the idle $LATEST environment with the old configuration is retired')
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  const changed = await invoke(lambda, {})
  t.equal(changed.body.coldStart, true)
  t.equal(changed.body.greeting, 'two')
  t.equal((await invoke(lambda, {}, '1')).body.greeting, 'one', 'version 1 keeps its frozen configuration')
})

t.test('two concurrent invocations of one version use two environments', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo()] })
  // each holds its environment long enough for the other to arrive while it is busy
  const [a, b] = await Promise.all([invoke(lambda, { holdMs: 500 }), invoke(lambda, { holdMs: 500 })])
  t.not(a.body.environmentId, b.body.environmentId)
  t.equal(a.body.coldStart, true)
  t.equal(b.body.coldStart, true)
  t.match(runtime.stats().versions, [{ environmentsStarted: 2, environmentsAlive: 2, environmentsBusy: 0 }])
  const third = await invoke(lambda, {})
  t.ok([a.body.environmentId, b.body.environmentId].includes(third.body.environmentId), 'a later one reuses either, warm')
  t.equal(third.body.coldStart, false)
})

t.test('beyond the function\'s concurrency limit the caller gets TooManyRequestsException (429)', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo({}, 1)] })
  const started = waitForRuntimeEvent(runtime, 'environment-started', () => true)
  const held = invoke(lambda, { holdMs: 2000 })
  await started
  const throttled = await invoke(lambda, {}).catch((e: unknown) => e)
  t.match(throttled, { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 }, Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' })
  t.equal((await held).body.coldStart, true)
  t.equal((await invoke(lambda, {})).body.coldStart, false, 'once the first is done the next runs, warm')
})

t.test('an idle environment is reaped after the idle timeout and the next invocation starts cold', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo()], idleTimeoutMs: 300 })
  const reaped = waitForRuntimeEvent(runtime, 'environment-stopped', () => true)
  const first = await invoke(lambda, {})
  const [stopped] = await reaped
  t.equal(stopped.reason, 'idle')
  t.match(runtime.stats().versions, [{ environmentsStarted: 1, environmentsAlive: 0 }])
  const next = await invoke(lambda, {})
  t.equal(next.body.coldStart, true)
  t.not(next.body.environmentId, first.body.environmentId)
})

t.test('a function keeps at most maxIdleEnvironments idle environments and reclaims the longest idle first', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo()], maxIdleEnvironments: 2 })
  const stopped: { environmentId: string, reason: string }[] = []
  runtime.on('environment-stopped', (e) => stopped.push(e))
  const started: string[] = []
  runtime.on('environment-started', (e) => started.push(e.environmentId))
  // three versions, each warmed once, as three promotions of fresh releases would leave them
  for (let i = 0; i < 3; i++) {
    const version = (await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: `v${i}` }))).Version!
    await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: `g${i}` } } }))
    await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
    t.equal((await invoke(lambda, {}, version)).body.coldStart, true)
  }
  t.same(stopped, [{ functionName: 'echo', version: '1', environmentId: started[0], reason: 'reclaimed' }],
    'the third idle environment reclaimed the first, the longest idle')
  const alive = runtime.stats().versions.filter((v) => v.environmentsAlive > 0).map((v) => v.version)
  t.same(alive.sort(), ['2', '3'])
  t.equal((await invoke(lambda, {}, '3')).body.coldStart, false, 'the most recent stays warm')
})

t.test('closing the runtime kills every environment', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [echo()] })
  const reasons: string[] = []
  runtime.on('environment-stopped', (e) => reasons.push(e.reason))
  await Promise.all([invoke(lambda, { holdMs: 300 }), invoke(lambda, { holdMs: 300 })])
  t.equal(runtime.stats().versions[0]?.environmentsAlive, 2)
  await runtime.close()
  t.same(reasons, ['close', 'close'])
  t.equal(runtime.stats().versions[0]?.environmentsAlive, 0)
})
