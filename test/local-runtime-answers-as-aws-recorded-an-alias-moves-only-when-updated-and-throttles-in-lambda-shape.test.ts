import {
  CreateAliasCommand, InvokeCommand, PublishVersionCommand, UpdateAliasCommand, UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, startTestRuntime, waitForRuntimeEvent } from './helpers/lambda-runtime.js'

/**
 * The runtime's invocations through a moving alias and its throttling answer, against what LocalStack recorded on
 * AWS (tests/aws/services/lambda_/test_lambda.snapshot.json, validated against AWS; each case names its key).
 */

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:echo'

t.test('an alias keeps serving its version through an update and a publish, and moves only when updated', async (t) => {
  const { lambda } = await startTestRuntime(t, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { GREETING: 'one' }, description: 'No version :(' }],
    updateDelayMs: 100,
  })
  const invokeAlias = async (): Promise<string | undefined> =>
    (await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'alias1', Payload: '{}' }))).ExecutedVersion

  // test_lambda.py::TestLambdaAliases::test_lambda_alias_moving -> create_alias_response, invocation_result_qualifier_v1
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'First version description :)' }))
  const created = await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'alias1', FunctionVersion: '1' }))
  t.match(created, { Name: 'alias1', FunctionVersion: '1', Description: '', $metadata: { httpStatusCode: 201 } })
  t.equal(await invokeAlias(), '1')

  // ... -> update_lambda_response, invocation_result_qualifier_v1_after_update
  const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))
  t.match(updated, { LastUpdateStatus: 'InProgress', LastUpdateStatusReason: 'The function is being created.', LastUpdateStatusReasonCode: 'Creating', Description: 'No version :(' })
  t.equal(await invokeAlias(), '1', 'updating $LATEST does not move the alias')
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 }, { FunctionName: 'echo' })

  // ... -> second_publish_response, invocation_result_qualifier_v1_after_publish
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'Second version description :)' }))
  t.match(v2, { Version: '2', Description: 'Second version description :)', LastUpdateStatus: 'Successful', $metadata: { httpStatusCode: 201 } })
  t.equal(await invokeAlias(), '1', 'publishing does not move the alias')

  // ... -> update_alias_response, invocation_result_qualifier_v2
  const moved = await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'alias1', FunctionVersion: '2' }))
  t.match(moved, { FunctionVersion: '2', Description: '', $metadata: { httpStatusCode: 200 } })
  t.not(moved.RevisionId, created.RevisionId)
  t.equal(await invokeAlias(), '2')

  // ... -> invocation_exc_not_existent
  const missing = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: 'non-existent-alias', Payload: '{}' })).catch((e: unknown) => e)
  t.match(missing, { name: 'ResourceNotFoundException', Type: 'User', message: `Function not found: ${ARN}:non-existent-alias`, $metadata: { httpStatusCode: 404 } })
})

t.test('an invocation beyond the reserved concurrency is 429 "Rate Exceeded." with its Reason, in Lambda\'s body', async (t) => {
  const { runtime, lambda } = await startTestRuntime(t, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, maxConcurrency: 1 }],
  })
  const started = waitForRuntimeEvent(runtime, 'environment-started', () => true)
  const held = lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ holdMs: 1500 }) }))
  await started
  // test_lambda.py::TestLambdaConcurrency::test_reserved_concurrency -> exc_no_cap_requestresponse
  const throttled = await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{}' })).catch((e: unknown) => e)
  t.match(throttled, {
    name: 'TooManyRequestsException', Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', $metadata: { httpStatusCode: 429 },
  })
  const raw = await fetch(`${runtime.url}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{}' })
  t.equal(raw.status, 429)
  t.equal(raw.headers.get('x-amzn-errortype'), 'TooManyRequestsException')
  t.same(await raw.json(), { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' })
  await held
})
