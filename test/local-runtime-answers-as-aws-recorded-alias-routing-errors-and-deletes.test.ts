import {
  CreateAliasCommand, DeleteAliasCommand, GetAliasCommand, PublishVersionCommand, UpdateAliasCommand,
  UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type LambdaClient,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

/**
 * The runtime's alias answers against what LocalStack recorded on AWS
 * (tests/aws/services/lambda_/test_lambda_api.snapshot.json, validated against AWS; each case names its key).
 * The recordings route through CreateAlias; UpdateAlias checks its RoutingConfig and FunctionVersion the same way.
 */

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:echo'
const RANGE = 'failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]'

/** A function with versions 1 and 2 (different environments), and the alias `live` on version 1. */
async function setup (test: { teardown: (fn: () => unknown) => void }): Promise<{ lambda: LambdaClient, url: string }> {
  const { runtime, lambda } = await startTestRuntime(test, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { testenv: 'staging' } }],
    updateDelayMs: 50,
  })
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { testenv: 'prod' } } }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 }, { FunctionName: 'echo' })
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1' }))
  return { lambda, url: runtime.url }
}

const failure = async (promise: Promise<unknown>): Promise<unknown> => await promise.then(() => 'succeeded', (e: unknown) => e)

t.test('routing to a version that does not exist is 404 ResourceNotFoundException, for the target and for the weighted version', async (t) => {
  const { lambda, url } = await setup(t)
  // test_lambda_api.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs -> target_version_doesnotexist
  const target = { name: 'ResourceNotFoundException', Type: 'User', message: `Function not found: ${ARN}:10`, $metadata: { httpStatusCode: 404 } }
  t.match(await failure(lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'custom', FunctionVersion: '10', RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } } }))), target)
  t.match(await failure(lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '10' }))), target)
  // test_lambda_api.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs -> routing_config_exc_version_doesnotexist
  t.match(await failure(lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'custom', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 10: 0.5 } } }))), target)
  t.match(await failure(lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 10: 0.5 } } }))), target)

  // over plain HTTP: the error type header and Lambda's body, `Message` capitalised for this error
  const raw = await fetch(`${url}/2015-03-31/functions/echo/aliases/live`, { method: 'PUT', body: JSON.stringify({ FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 10: 0.5 } } }) })
  t.equal(raw.status, 404)
  t.equal(raw.headers.get('x-amzn-errortype'), 'ResourceNotFoundException')
  t.same(await raw.json(), { Type: 'User', Message: `Function not found: ${ARN}:10` })
  t.match(await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' })), { FunctionVersion: '1', RoutingConfig: undefined }, 'refused updates change nothing')
})

t.test('$LATEST as a routing key and weights out of range are 400 ValidationException; two weighted versions or the primary weighted are 400 InvalidParameterValueException', async (t) => {
  const { lambda } = await setup(t)
  const routed = (weights: Record<string, number>, functionVersion = '1') => [
    lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'custom', FunctionVersion: functionVersion, RoutingConfig: { AdditionalVersionWeights: weights } })),
    lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: functionVersion, RoutingConfig: { AdditionalVersionWeights: weights } })),
  ]
  const cases: Array<[string, Record<string, number>, object, string?]> = [
    // test_lambda_api.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs -> routing_config_exc_version_latest
    ['routing_config_exc_version_latest', { $LATEST: 0.5 }, {
      name: 'ValidationException',
      message: '1 validation error detected: Value \'{$LATEST=0.5}\' at \'routingConfig.additionalVersionWeights\' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]',
      $metadata: { httpStatusCode: 400 },
    }],
    // ... -> routing_config_exc_toohigh
    ['routing_config_exc_toohigh', { 2: 2 }, { name: 'ValidationException', message: `1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' ${RANGE}`, $metadata: { httpStatusCode: 400 } }],
    // ... -> routing_config_exc_subzero
    ['routing_config_exc_subzero', { 2: -1 }, { name: 'ValidationException', message: `1 validation error detected: Value '{2=-1.0}' at 'routingConfig.additionalVersionWeights' ${RANGE}`, $metadata: { httpStatusCode: 400 } }],
    // ... -> routing_config_exc_toomany
    ['routing_config_exc_toomany', { 1: 0.8, 2: 0.2 }, { name: 'InvalidParameterValueException', Type: 'User', message: 'Number of items in AdditionalVersionWeights cannot be greater than 1', $metadata: { httpStatusCode: 400 } }],
    // ... -> routing_config_exc_sameversion
    ['routing_config_exc_sameversion', { 1: 0.5 }, { name: 'InvalidParameterValueException', message: 'Invalid function version 1. Function version 1 is already included in routing configuration.', $metadata: { httpStatusCode: 400 } }],
    // ... -> target_version_exc_version_latest
    ['target_version_exc_version_latest', { 1: 0.5 }, { name: 'InvalidParameterValueException', message: '$LATEST is not supported for an alias pointing to more than 1 version', $metadata: { httpStatusCode: 400 } }, '$LATEST'],
  ]
  for (const [key, weights, expected, functionVersion] of cases) {
    const [created, updated] = routed(weights, functionVersion)
    t.match(await failure(created!), expected, `CreateAlias: ${key}`)
    t.match(await failure(updated!), expected, `UpdateAlias: ${key}`)
  }
  t.match(await failure(lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'custom' }))), { name: 'ResourceNotFoundException' }, 'no alias was created')
  t.match(await lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' })), { FunctionVersion: '1', RoutingConfig: undefined }, 'refused updates change nothing')

  // ... -> create_alias_empty_routingconfig, create_alias_response: what is allowed
  t.match(await lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'custom-empty', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: {} } })), { FunctionVersion: '1', RoutingConfig: undefined })
  t.match(await lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } } })), { RoutingConfig: { AdditionalVersionWeights: { 2: 0.5 } } })
})

t.test('an unknown alias: UpdateAlias is 404 "Alias not found", GetAlias 404 "Cannot find alias arn", DeleteAlias succeeds with 204', async (t) => {
  const { lambda, url } = await setup(t)
  // test_lambda_api.py::TestLambdaAlias::test_non_existent_alias_update -> update_alias_response
  t.match(await failure(lambda.send(new UpdateAliasCommand({ FunctionName: 'echo', Name: 'non-existent' }))), {
    name: 'ResourceNotFoundException', Type: 'User', message: `Alias not found: ${ARN}:non-existent`, $metadata: { httpStatusCode: 404 },
  })
  // test_lambda_api.py::TestLambdaAlias::test_notfound_and_invalid_routingconfigs -> alias_does_not_exist_esc
  t.match(await failure(lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'non-existent' }))), {
    name: 'ResourceNotFoundException', Type: 'User', message: `Cannot find alias arn: ${ARN}:non-existent`, $metadata: { httpStatusCode: 404 },
  })
  // test_lambda_api.py::TestLambdaAlias::test_non_existent_alias_deletion -> delete_alias_response
  const deleted = await lambda.send(new DeleteAliasCommand({ FunctionName: 'echo', Name: 'non-existent' }))
  t.equal(deleted.$metadata.httpStatusCode, 204)
  const raw = await fetch(`${url}/2015-03-31/functions/echo/aliases/non-existent`, { method: 'DELETE' })
  t.equal(raw.status, 204)
  // deleting an existing alias is 204 too, and it is gone
  t.equal((await lambda.send(new DeleteAliasCommand({ FunctionName: 'echo', Name: 'live' }))).$metadata.httpStatusCode, 204)
  t.match(await failure(lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))), { name: 'ResourceNotFoundException' })
})
