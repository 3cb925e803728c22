import t from 'tap'
import {
  backoffDelayMs, refusedForNow, retryRefusedWrite, type WriteRetryPolicy,
} from '../src/deploy/lambda-write-retry.js'

const policy: WriteRetryPolicy = { attempts: 5, baseDelayMs: 1, maxDelayMs: 4 }

/** An error as @aws-sdk/client-lambda throws it: its name, the HTTP status, and the attempts the SDK made. */
function lambdaError (name: string, status: number, attempts = 1): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status, attempts } })
}

t.test('the backoff doubles from the base up to the cap, each delay between half its ceiling and the ceiling', async (t) => {
  const real = { attempts: 5, baseDelayMs: 100, maxDelayMs: 3_000 }
  t.same([0, 1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(retry, real, () => 0)), [50, 100, 200, 400, 800, 1500, 1500])
  t.same([0, 1, 2, 3, 4, 5, 6].map((retry) => backoffDelayMs(retry, real, () => 1)), [100, 200, 400, 800, 1600, 3000, 3000])
})

t.test('409 and 429 are refusals for now; 412, 404, 5xx and connection errors are not', async (t) => {
  t.equal(refusedForNow(lambdaError('ResourceConflictException', 409)), 'conflict')
  t.equal(refusedForNow(lambdaError('TooManyRequestsException', 429)), 'throttled')
  t.equal(refusedForNow(lambdaError('PreconditionFailedException', 412)), undefined)
  t.equal(refusedForNow(lambdaError('ResourceNotFoundException', 404)), undefined)
  t.equal(refusedForNow(lambdaError('ServiceException', 500)), undefined)
  t.equal(refusedForNow(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), undefined)
  t.equal(refusedForNow(null), undefined)
})

t.test('a refused call is retried until it goes through, waiting for beforeRetry on each', async (t) => {
  let calls = 0
  const waited: string[] = []
  const result = await retryRefusedWrite(async () => {
    calls++
    if (calls === 1) throw lambdaError('ResourceConflictException', 409)
    if (calls === 2) throw lambdaError('TooManyRequestsException', 429)
    return 'done'
  }, { policy, beforeRetry: async (refusal) => { waited.push(refusal) } })
  t.equal(result, 'done')
  t.equal(calls, 3)
  t.same(waited, ['conflict', 'throttled'])
})

t.test('the budget counts the SDK\'s own attempts: never more HTTP calls than the policy allows', async (t) => {
  let calls = 0
  const refused = await retryRefusedWrite(async () => {
    calls++
    throw lambdaError('ResourceConflictException', 409)
  }, { policy }).catch((e: unknown) => e)
  t.match(refused, { name: 'ResourceConflictException' }, 'the last refusal, as it came')
  t.equal(calls, 5, 'five calls of one attempt each')

  let throttledCalls = 0
  await retryRefusedWrite(async () => {
    throttledCalls++
    throw lambdaError('TooManyRequestsException', 429, 2)
  }, { policy }).catch(() => {})
  t.equal(throttledCalls, 2, 'two calls of two attempts each: a third could pass five')
})

t.test('anything else fails at once, and so does a failing beforeRetry', async (t) => {
  let calls = 0
  const stale = await retryRefusedWrite(async () => {
    calls++
    throw lambdaError('PreconditionFailedException', 412)
  }, { policy }).catch((e: unknown) => e)
  t.match(stale, { name: 'PreconditionFailedException' })
  t.equal(calls, 1)

  const waitFailed = await retryRefusedWrite(async () => {
    throw lambdaError('ResourceConflictException', 409)
  }, { policy, beforeRetry: async () => { throw new Error('the wait failed') } }).catch((e: unknown) => e)
  t.match(waitFailed, { message: 'the wait failed' })
})

t.test('a call whose 409 is final (CreateAlias: the alias exists) retries only throttling', async (t) => {
  let calls = 0
  const exists = await retryRefusedWrite(async () => {
    calls++
    if (calls === 1) throw lambdaError('TooManyRequestsException', 429)
    throw lambdaError('ResourceConflictException', 409)
  }, { policy, retryConflicts: false }).catch((e: unknown) => e)
  t.match(exists, { name: 'ResourceConflictException' })
  t.equal(calls, 2, 'the 429 was retried, the 409 was not')
})
