import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime, waitForRuntimeEvent } from './helpers/lambda-runtime.js'

const faulty = { name: 'faulty', bundlePath: handlerPath('faulty.mjs'), handler: 'index.handler', environment: {}, timeoutSeconds: 1 }

async function invoke (lambda: LambdaClient, event: unknown, functionName = 'faulty') {
  const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: JSON.stringify(event), LogType: 'Tail' }))
  return { response, body: payloadOf(response.Payload), log: Buffer.from(response.LogResult ?? '', 'base64').toString('utf8') }
}

t.test('a handler that throws: 200 with X-Amz-Function-Error Unhandled and its errorType, and the environment lives on', async (t) => {
  const { lambda } = await startTestRuntime(t, { functions: [faulty] })
  const before = await invoke(lambda, {})
  const failed = await invoke(lambda, { action: 'throw', model: 'resnet' })
  t.equal(failed.response.StatusCode, 200)
  t.equal(failed.response.FunctionError, 'Unhandled')
  t.equal(failed.response.ExecutedVersion, '$LATEST')
  t.equal(failed.body.errorType, 'ModelMissingError')
  t.equal(failed.body.errorMessage, 'no model for resnet')
  t.match(failed.body.trace[0], /^ModelMissingError: no model for resnet/)
  t.match(failed.log, /START RequestId: .* Version: \$LATEST\n[\s\S]*Invoke Error[\s\S]*END RequestId[\s\S]*REPORT RequestId: .*Duration: [\d.]+ ms/)
  const after = await invoke(lambda, {})
  t.equal(after.response.FunctionError, undefined)
  t.equal(after.body.environmentId, before.body.environmentId, 'a thrown error does not reset the environment, as in Lambda')
  t.equal(after.body.invocations, 3)
})

t.test('a handler that runs past its timeout: Sandbox.Timedout, the environment is killed and replaced', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [faulty] })
  const before = await invoke(lambda, {})
  const stopped = waitForRuntimeEvent(runtime, 'environment-stopped', () => true)
  const started = performance.now()
  const timedOut = await invoke(lambda, { action: 'sleep' })
  t.ok(performance.now() - started < 10_000, 'answered at the 1 s timeout, not when the handler would finish')
  t.equal(timedOut.response.FunctionError, 'Unhandled')
  t.equal(timedOut.body.errorType, 'Sandbox.Timedout')
  t.match(timedOut.body.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/)
  t.match(timedOut.log, /Task timed out after 1\.00 seconds/)
  t.equal((await stopped)[0].reason, 'timeout')
  const after = await invoke(lambda, {})
  t.equal(after.response.FunctionError, undefined)
  t.not(after.body.environmentId, before.body.environmentId, 'a new environment serves the next invocation')
  t.equal(after.body.invocations, 1)
})

t.test('a handler that exits the process: Runtime.ExitError, and the next invocation works in a new environment', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, { functions: [faulty] })
  const before = await invoke(lambda, {})
  const stopped = waitForRuntimeEvent(runtime, 'environment-stopped', () => true)
  const exited = await invoke(lambda, { action: 'exit' })
  t.equal(exited.response.FunctionError, 'Unhandled')
  t.equal(exited.body.errorType, 'Runtime.ExitError')
  t.match(exited.body.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$/)
  t.equal((await stopped)[0].reason, 'exit')
  const after = await invoke(lambda, {})
  t.equal(after.response.FunctionError, undefined)
  t.not(after.body.environmentId, before.body.environmentId)
})

t.test('an exception thrown outside the handler\'s promise ends the environment with that error', async (t) => {
  const { lambda } = await startTestRuntime(t, { functions: [faulty] })
  const crashed = await invoke(lambda, { action: 'uncaught' })
  t.equal(crashed.response.FunctionError, 'Unhandled')
  t.equal(crashed.body.errorType, 'TypeError')
  t.equal(crashed.body.errorMessage, 'thrown from a timer')
  t.equal((await invoke(lambda, {})).body.invocations, 1, 'the next invocation runs in a fresh environment')
})

t.test('a bundle that throws while loading fails each invocation with its init error', async (t) => {
  const { lambda } = await startTestRuntime(t, {
    functions: [{ name: 'broken', bundlePath: handlerPath('init-fails.mjs'), handler: 'handler', environment: {} }],
  })
  for (let attempt = 0; attempt < 2; attempt++) {
    const failed = await invoke(lambda, {}, 'broken')
    t.equal(failed.response.FunctionError, 'Unhandled')
    t.equal(failed.body.errorType, 'ConfigurationError')
    t.equal(failed.body.errorMessage, 'MODEL_BUCKET is not set')
  }
})

t.test('a handler name the bundle does not export is Runtime.HandlerNotFound', async (t) => {
  const { lambda } = await startTestRuntime(t, {
    functions: [{ name: 'misnamed', bundlePath: handlerPath('echo.mjs'), handler: 'index.main', environment: {} }],
  })
  const failed = await invoke(lambda, {}, 'misnamed')
  t.equal(failed.body.errorType, 'Runtime.HandlerNotFound')
  t.equal(failed.body.errorMessage, 'index.main is undefined or not exported')
})
