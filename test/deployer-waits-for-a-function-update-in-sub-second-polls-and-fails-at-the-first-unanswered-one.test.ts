import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import t from 'tap'
import type { ModelPin } from '../src/contract/pin.js'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { DeployStepError } from '../src/registry/deployer.js'

const pin: ModelPin = {
  bucket: 'models', weightsKey: 'm.onnx', weightsVersionId: 'w2', labelsKey: 'l.txt', labelsVersionId: 'l2',
}
const target = { functionName: 'classifier', functionAlias: 'live' }
const build = { model: 'resnet', release: 2, pin }

/** A port nothing listens on: a call that reaches it is refused at once, as when the Lambda endpoint is down. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * The deployer's real client (retries and timeouts as in production) over a fake Lambda: `statuses` are the
 * `LastUpdateStatus` answers of successive GetFunction polls; past them, or at 'unreachable', a poll goes on to a
 * closed port. Every other call the publish makes is answered as Lambda would.
 */
async function fakeLambda (statuses: Array<'InProgress' | 'Successful' | 'Failed' | 'unreachable'>): Promise<{ lambda: LambdaClient, polls: number[] }> {
  const lambda = createLambdaClient({
    endpoint: `http://127.0.0.1:${await closedPort()}`, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  })
  const polls: number[] = []
  let variables: Record<string, string> = {}
  lambda.middlewareStack.add((next, context) => async (args) => {
    const input = args.input as { Environment?: { Variables?: Record<string, string> } }
    const answer = (output: object): { output: never, response: unknown } =>
      ({ output: { $metadata: {}, ...output } as never, response: {} })
    switch (context.commandName) {
      case 'GetFunctionConfigurationCommand':
        return answer({ Environment: { Variables: variables }, RevisionId: 'r1' })
      case 'UpdateFunctionConfigurationCommand':
        variables = input.Environment?.Variables ?? {}
        return answer({ LastUpdateStatus: 'InProgress' })
      case 'GetFunctionCommand': {
        polls.push(performance.now())
        const status = statuses[polls.length - 1] ?? 'unreachable'
        if (status === 'unreachable') return await next(args)
        return answer({ Configuration: { LastUpdateStatus: status, LastUpdateStatusReason: status === 'Failed' ? 'no ENI left in arn:aws:ec2:us-east-1:123456789012:subnet/subnet-1' : undefined, LastUpdateStatusReasonCode: status === 'Failed' ? 'EniLimitExceeded' : undefined } })
      }
      case 'PublishVersionCommand':
        return answer({ Version: '7', Environment: { Variables: variables } })
    }
    return await next(args)
  }, { step: 'initialize' })
  return { lambda, polls }
}

t.test('an update still in progress is polled again within a fraction of a second until it succeeds', async (t) => {
  const { lambda, polls } = await fakeLambda(['InProgress', 'InProgress', 'InProgress', 'Successful'])
  const published = await new LambdaDeployer({ lambda }).publish(target, build)
  t.same(published, { functionVersion: '7', published: true })
  t.equal(polls.length, 4, 'one poll per answer, the last one Successful')
  const waited = polls.at(-1)! - polls[0]!
  t.ok(waited < 1500, `three waits took ${waited.toFixed(0)} ms (the SDK's default would wait at least 3 s)`)
})

t.test('Lambda unreachable during the wait fails the step at the first failed poll, not at the timeout', async (t) => {
  const { lambda, polls } = await fakeLambda(['InProgress', 'unreachable', 'Successful'])
  const started = performance.now()
  const error = await new LambdaDeployer({ lambda }).publish(target, build).catch((error: unknown) => error)
  const took = performance.now() - started
  t.type(error, DeployStepError)
  t.match(error, { step: 'wait-function-updated', message: /^wait-function-updated failed: .*ECONNREFUSED/ })
  t.equal(polls.length, 2, 'no poll after the one that failed')
  t.ok(took < 10_000, `failed after ${took.toFixed(0)} ms, far below the 120 s the update may take`)
})

t.test('a failed update names Lambda\'s reason, and one that never ends names its status and the timeout', async (t) => {
  const failed = await fakeLambda(['InProgress', 'Failed'])
  await t.rejects(new LambdaDeployer({ lambda: failed.lambda }).publish(target, build), {
    name: 'DeployStepError',
    step: 'wait-function-updated',
    message: 'wait-function-updated failed: the configuration update failed: EniLimitExceeded',
  })
  const stuck = await fakeLambda(Array.from({ length: 100 }, () => 'InProgress' as const))
  await t.rejects(new LambdaDeployer({ lambda: stuck.lambda, updateTimeoutSeconds: 1 }).publish(target, build), {
    step: 'wait-function-updated',
    message: 'wait-function-updated failed: the configuration update was still InProgress after 1 s',
  })
  t.ok(stuck.polls.length > 2, `polled ${stuck.polls.length} times within the second`)
})
