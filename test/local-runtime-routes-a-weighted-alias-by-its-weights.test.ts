import {
  CreateAliasCommand, InvokeCommand, PublishVersionCommand, UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2, type LambdaClient,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime } from './helpers/lambda-runtime.js'

const INVOCATIONS = 300
const WEIGHT = 0.3

/** Versions 1 (GREETING one) and 2 (GREETING two), and alias `live` on 1 with `weight` of traffic to 2. */
async function canary (lambda: LambdaClient, weight: number): Promise<void> {
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await lambda.send(new CreateAliasCommand({
    FunctionName: 'echo', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: weight } },
  }))
}

async function countVersions (lambda: LambdaClient): Promise<Record<string, number>> {
  const counts: Record<string, number> = {}
  for (let i = 0; i < INVOCATIONS; i++) {
    const response = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'live', Payload: '{}' }))
    const body = payloadOf(response.Payload)
    if (body.context.functionVersion !== response.ExecutedVersion) throw new Error('X-Amz-Executed-Version disagrees with the version that ran')
    const key = `${response.ExecutedVersion}:${body.greeting}`
    counts[key] = (counts[key] ?? 0) + 1
  }
  return counts
}

const functions = [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'handler', environment: { GREETING: 'one' } }]

t.test('random routing sends 0.3 of 300 invocations to the additional version, within 3.5 sigma', async (t) => {
  const { lambda } = await startTestRuntime(t, { functions, updateDelayMs: 50 })
  await canary(lambda, WEIGHT)
  const counts = await countVersions(lambda)
  t.same(Object.keys(counts).sort(), ['1:one', '2:two'], 'each version answers with its own frozen configuration')
  const share = (counts['2:two'] ?? 0) / INVOCATIONS
  t.ok(Math.abs(share - WEIGHT) <= 0.09, `share of version 2 is ${share}`)
})

t.test('the seeded router is exact: 90 of 300 invocations go to the additional version', async (t) => {
  const { lambda } = await startTestRuntime(t, { functions, updateDelayMs: 50, seed: 42 })
  await canary(lambda, WEIGHT)
  const counts = await countVersions(lambda)
  t.same(counts, { '1:one': 210, '2:two': 90 })
})
