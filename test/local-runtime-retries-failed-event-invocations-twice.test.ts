import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, startTestRuntime, waitForRuntimeEvent } from './helpers/lambda-runtime.js'

async function setup (t: { teardown: (fn: () => unknown) => void }) {
  const stateDir = await mkdtemp(join(tmpdir(), 'lambda-async-'))
  t.teardown(() => rm(stateDir, { recursive: true, force: true }))
  const started = await startTestRuntime(t, {
    functions: [{ name: 'flaky', bundlePath: handlerPath('flaky.mjs'), handler: 'handler', environment: { STATE_DIR: stateDir } }],
    asyncRetryDelaysMs: [50, 100],
  })
  const attemptsOf = async (id: string) => (await readFile(join(stateDir, `${id}.attempts`), 'utf8')).trim().split('\n')
  return { ...started, attemptsOf }
}

t.test('an Event invocation is accepted with 202 and retried twice after function errors, then succeeds', async (t) => {
  const { runtime, lambda, attemptsOf } = await setup(t)
  const attempts: (string | undefined)[] = []
  runtime.on('async-attempt', (a) => attempts.push(a.errorType))
  const done = waitForRuntimeEvent(runtime, 'async-done', (d) => d.functionName === 'flaky')
  const accepted = await lambda.send(new InvokeCommand({
    FunctionName: 'flaky', InvocationType: 'Event', Payload: JSON.stringify({ id: 'twice', failures: 2 }),
  }))
  t.equal(accepted.StatusCode, 202)
  t.equal(accepted.Payload?.length ?? 0, 0)
  const [result] = await done
  t.equal(result.outcome, 'succeeded')
  t.equal(result.attempts, 3)
  t.equal(result.requestId, accepted.$metadata.requestId, 'the 202 names the request that ran')
  t.same(attempts, ['FlakyError', 'FlakyError', undefined])
  const lines = await attemptsOf('twice')
  t.equal(lines.length, 3, 'the handler saw three attempts')
  t.same(new Set(lines.map((l) => l.split(' ')[0])), new Set([result.requestId]), 'every retry keeps the request id, as Lambda does')
})

t.test('an Event invocation that keeps failing stops after three attempts', async (t) => {
  const { runtime, lambda, attemptsOf } = await setup(t)
  const done = waitForRuntimeEvent(runtime, 'async-done', (d) => d.functionName === 'flaky')
  await lambda.send(new InvokeCommand({ FunctionName: 'flaky', InvocationType: 'Event', Payload: JSON.stringify({ id: 'always', failures: 99 }) }))
  const [result] = await done
  t.equal(result.outcome, 'failed')
  t.equal(result.attempts, 3)
  t.equal((await attemptsOf('always')).length, 3)
  t.equal(runtime.stats().asyncInFlight, 0)
})

t.test('Event and DryRun are checked synchronously: an unknown function is 404, a dry run 204 that runs nothing', async (t) => {
  const { runtime, lambda } = await setup(t)
  const unknown = await lambda.send(new InvokeCommand({ FunctionName: 'ghost', InvocationType: 'Event', Payload: '{}' })).catch((e: unknown) => e)
  t.match(unknown, { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } })
  const dry = await lambda.send(new InvokeCommand({ FunctionName: 'flaky', InvocationType: 'DryRun', Payload: '{}' }))
  t.equal(dry.StatusCode, 204)
  t.same(runtime.stats().versions, [], 'no environment started')
})
