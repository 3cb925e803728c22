import {
  CreateAliasCommand, DeleteAliasCommand, GetAliasCommand, GetFunctionCommand, GetFunctionConfigurationCommand,
  InvokeCommand, ListAliasesCommand, ListVersionsByFunctionCommand, PublishVersionCommand, UpdateAliasCommand,
  UpdateFunctionConfigurationCommand, waitUntilFunctionUpdated, waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime } from './helpers/lambda-runtime.js'

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:echo'

async function setup (test: { teardown: (fn: () => unknown) => void }) {
  return startTestRuntime(test, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { GREETING: 'one' }, memoryMb: 256, timeoutSeconds: 5 }],
    updateDelayMs: 300,
  })
}

t.test('GetFunction and GetFunctionConfiguration describe the configured function as Lambda does', async (t) => {
  const { lambda } = await setup(t)
  const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }))
  t.equal(fn.Configuration?.FunctionArn, ARN)
  t.equal(fn.Configuration?.State, 'Active')
  t.equal(fn.Configuration?.LastUpdateStatus, 'Successful')
  t.equal(fn.Configuration?.Version, '$LATEST')
  t.equal(fn.Configuration?.Handler, 'index.handler')
  t.equal(fn.Configuration?.MemorySize, 256)
  t.equal(fn.Configuration?.Timeout, 5)
  t.same(fn.Configuration?.Environment?.Variables, { GREETING: 'one' })
  t.match(fn.Configuration?.RevisionId, /^[0-9a-f-]{36}$/)
  t.match(fn.Configuration?.CodeSha256, /^[A-Za-z0-9+/]{43}=$/)

  const byArn = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: ARN }))
  t.equal(byArn.FunctionName, 'echo')
  t.equal(byArn.RevisionId, fn.Configuration?.RevisionId)

  const missing = await lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })).catch((e: unknown) => e)
  t.match(missing, { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 }, message: /Function not found: .*:function:nope/ })
})

t.test('UpdateFunctionConfiguration goes InProgress then Successful, so both SDK waiters work, and refuses a second update meanwhile', async (t) => {
  const { lambda } = await setup(t)
  const before = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  const updated = await lambda.send(new UpdateFunctionConfigurationCommand({
    FunctionName: 'echo',
    Environment: { Variables: { GREETING: 'two', EXTRA: 'x' } },
    MemorySize: 512,
    Timeout: 7,
    Description: 'second',
    RevisionId: before.RevisionId,
  }))
  t.equal(updated.LastUpdateStatus, 'InProgress')
  t.same(updated.Environment?.Variables, { GREETING: 'two', EXTRA: 'x' })
  t.not(updated.RevisionId, before.RevisionId)

  const second = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 9 })).catch((e: unknown) => e)
  t.match(second, { name: 'ResourceConflictException', $metadata: { httpStatusCode: 409 }, message: /update is in progress/ })
  const publishing = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' })).catch((e: unknown) => e)
  t.match(publishing, { name: 'ResourceConflictException' })

  const waited = await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  t.equal(waited.state, 'SUCCESS')
  const after = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  t.equal(after.LastUpdateStatus, 'Successful')
  t.equal(after.MemorySize, 512)
  t.equal(after.Timeout, 7)
  t.equal(after.Description, 'second')

  const stale = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 8, RevisionId: before.RevisionId })).catch((e: unknown) => e)
  t.match(stale, { name: 'PreconditionFailedException', $metadata: { httpStatusCode: 412 } })

  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 8, RevisionId: after.RevisionId }))
  const v1Waiter = await waitUntilFunctionUpdated({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  t.equal(v1Waiter.state, 'SUCCESS')

  const reserved = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { AWS_REGION: 'eu-west-1' } } })).catch((e: unknown) => e)
  t.match(reserved, { name: 'InvalidParameterValueException', message: /reserved keys.*AWS_REGION/ })
  const badMemory = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', MemorySize: 64 })).catch((e: unknown) => e)
  t.match(badMemory, { name: 'InvalidParameterValueException', $metadata: { httpStatusCode: 400 } })
})

t.test('PublishVersion freezes each configuration: v1 and v2 answer with their own variable, and an unchanged publish returns the same version', async (t) => {
  const { lambda } = await setup(t)
  const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'release 1' }))
  t.equal(v1.Version, '1')
  t.equal(v1.FunctionArn, `${ARN}:1`)
  t.equal(v1.Description, 'release 1')

  const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'no change' }))
  t.equal(again.Version, '1', 'nothing changed since version 1, so Lambda answers with it')

  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  const wrongRevision = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', RevisionId: '00000000-0000-0000-0000-000000000000' })).catch((e: unknown) => e)
  t.match(wrongRevision, { name: 'PreconditionFailedException' })
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'release 2', RevisionId: latest.RevisionId }))
  t.equal(v2.Version, '2')

  const one = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: '1', Payload: '{}' }))).Payload)
  const two = await lambda.send(new InvokeCommand({ FunctionName: 'echo:2', Payload: '{}' }))
  t.equal(one.greeting, 'one')
  t.equal(one.context.functionVersion, '1')
  t.equal(one.context.invokedFunctionArn, `${ARN}:1`)
  t.equal(payloadOf(two.Payload).greeting, 'two')
  t.equal(two.ExecutedVersion, '2')

  const v1Config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo', Qualifier: '1' }))
  t.same(v1Config.Environment?.Variables, { GREETING: 'one' })
  t.equal(v1Config.Version, '1')

  const listed = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }))
  t.same(listed.Versions?.map((v) => [v.Version, v.Description, v.Environment?.Variables?.GREETING]), [
    ['$LATEST', '', 'two'], ['1', 'release 1', 'one'], ['2', 'release 2', 'two'],
  ])
  const paged = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo', MaxItems: 2 }))
  t.equal(paged.Versions?.length, 2)
  const rest = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo', Marker: paged.NextMarker }))
  t.same(rest.Versions?.map((v) => v.Version), ['2'])
  t.equal(rest.NextMarker, undefined)
})

t.test('aliases: create, get, update with RevisionId (412 on a stale one), weights, list, delete, and Invoke through them', async (t) => {
  const { lambda } = await setup(t)
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))

  const created = await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1', Description: 'serving' }))
  t.equal(created.AliasArn, `${ARN}:live`)
  t.equal(created.FunctionVersion, '1')
  const duplicate = await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1' })).catch((e: unknown) => e)
  t.match(duplicate, { name: 'ResourceConflictException', $metadata: { httpStatusCode: 409 } })
  const unknownVersion = await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'other', FunctionVersion: '9' })).catch((e: unknown) => e)
  t.match(unknownVersion, { name: 'ResourceNotFoundException' })

  const live = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'live', Payload: '{}' }))
  t.equal(live.ExecutedVersion, '1')
  t.equal(payloadOf(live.Payload).greeting, 'one')
  t.equal(payloadOf(live.Payload).context.invokedFunctionArn, `${ARN}:live`)

  const got = await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))
  t.equal(got.RevisionId, created.RevisionId)
  const stale = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '2', RevisionId: 'not-the-revision' })).catch((e: unknown) => e)
  t.match(stale, { name: 'PreconditionFailedException', $metadata: { httpStatusCode: 412 } })
  t.equal((await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))).FunctionVersion, '1', 'a refused update changes nothing')

  const moved = await lambda.send(new UpdateAliasCommand({
    FunctionName: 'echo',
    Name: 'live',
    FunctionVersion: '2',
    RevisionId: got.RevisionId,
    RoutingConfig: { AdditionalVersionWeights: { 1: 0.25 } },
  }))
  t.equal(moved.FunctionVersion, '2')
  t.same(moved.RoutingConfig?.AdditionalVersionWeights, { 1: 0.25 })
  t.not(moved.RevisionId, got.RevisionId)
  const configThroughAlias = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo', Qualifier: 'live' }))
  t.equal(configThroughAlias.Version, '2', 'reading an alias describes its primary version')
  t.equal(configThroughAlias.FunctionArn, `${ARN}:live`)

  const badWeights = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } } })).catch((e: unknown) => e)
  t.match(badWeights, { name: 'InvalidParameterValueException' })
  const cleared = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } }))
  t.equal(cleared.RoutingConfig, undefined)

  await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'staging', FunctionVersion: '1' }))
  const listed = await lambda.send(new ListAliasesCommand({ FunctionName: 'echo' }))
  t.same(listed.Aliases?.map((a) => [a.Name, a.FunctionVersion]), [['live', '2'], ['staging', '1']])
  const onVersion1 = await lambda.send(new ListAliasesCommand({ FunctionName: 'echo', FunctionVersion: '1' }))
  t.same(onVersion1.Aliases?.map((a) => a.Name), ['staging'])

  await lambda.send(new DeleteAliasCommand({ FunctionName: 'echo', Name: 'staging' }))
  const gone = await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'staging' })).catch((e: unknown) => e)
  t.match(gone, { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } })
  const missingQualifier = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'staging', Payload: '{}' })).catch((e: unknown) => e)
  t.match(missingQualifier, { name: 'ResourceNotFoundException' })
})

t.test('unknown operations, unknown paths and malformed bodies answer in Lambda error shape', async (t) => {
  const { runtime } = await setup(t)
  const cases: [string, string, string | undefined, number, string][] = [
    ['GET', '/2015-03-31/functions/echo/nonsense', undefined, 404, 'UnknownOperationException'],
    ['GET', '/no/such/path', undefined, 404, 'UnknownOperationException'],
    ['POST', '/2015-03-31/functions', '{}', 400, 'UnsupportedOperationException'],
    ['GET', '/2015-03-31/event-source-mappings', undefined, 400, 'UnsupportedOperationException'],
    ['PUT', '/2015-03-31/functions/echo/configuration', '{not json', 400, 'InvalidRequestContentException'],
    ['POST', '/2015-03-31/functions/echo/invocations', '{not json', 400, 'InvalidRequestContentException'],
    ['GET', '/2015-03-31/functions/ghost/configuration', undefined, 404, 'ResourceNotFoundException'],
    ['GET', '/2015-03-31/functions/echo/configuration?Qualifier=42', undefined, 404, 'ResourceNotFoundException'],
  ]
  for (const [method, path, body, status, errorType] of cases) {
    const response = await fetch(runtime.url + path, { method, body })
    t.equal(response.status, status, `${method} ${path}`)
    t.equal(response.headers.get('x-amzn-errortype'), errorType, `${method} ${path}`)
    const json = await response.json() as Record<string, unknown>
    t.equal(json.Type, 'User')
    t.type(json.Message ?? json.message, 'string')
  }
  const health = await fetch(`${runtime.url}/_local/health`)
  t.equal(health.status, 200, 'the runtime still serves after all of them')
})
