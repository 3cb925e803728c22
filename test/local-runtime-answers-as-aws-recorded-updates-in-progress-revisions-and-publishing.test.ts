import {
  GetFunctionCommand, GetFunctionConfigurationCommand, ListVersionsByFunctionCommand, PublishVersionCommand,
  UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type LambdaClient,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

/**
 * The runtime's update and publish behaviour against what LocalStack recorded on AWS
 * (tests/aws/services/lambda_/test_lambda_api.snapshot.json, validated against AWS; each case names its key).
 */

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:echo'
const REVISION_MISMATCH = 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id'

async function setup (test: { teardown: (fn: () => unknown) => void }): Promise<{ lambda: LambdaClient, url: string }> {
  const { runtime, lambda } = await startTestRuntime(test, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { GREETING: 'one' }, description: 'No version :(' }],
    updateDelayMs: 300,
  })
  return { lambda, url: runtime.url }
}

async function settled (lambda: LambdaClient): Promise<void> {
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.2 }, { FunctionName: 'echo' })
}

async function latestRevision (lambda: LambdaClient): Promise<string | undefined> {
  return (await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }))).Configuration?.RevisionId
}

t.test('an update reports InProgress with its reason, refuses a second update with 409 meanwhile, and renews the RevisionId when it starts and when it completes', async (t) => {
  const { lambda, url } = await setup(t)
  const before = await latestRevision(lambda)

  // test_lambda_api.py::TestLambdaRevisions::test_function_revisions_basic -> update_function_configuration_response_rev5
  // test_lambda_api.py::TestLambdaVersions::test_version_lifecycle -> first_update_response
  const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Description: 'First version :)', RevisionId: before }))
  t.match(updated, {
    LastUpdateStatus: 'InProgress',
    LastUpdateStatusReason: 'The function is being created.',
    LastUpdateStatusReasonCode: 'Creating',
    State: 'Active',
    Version: '$LATEST',
  })
  t.not(updated.RevisionId, before, 'an update starting renews the RevisionId')

  // test_lambda_api.py::TestLambdaFunction::test_lambda_concurrent_config_updates -> update-during-in-progress-update-exc
  const second = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 9 })).catch((e: unknown) => e)
  t.match(second, {
    name: 'ResourceConflictException',
    Type: 'User',
    message: `The operation cannot be performed at this time. An update is in progress for resource: ${ARN}`,
    $metadata: { httpStatusCode: 409 },
  })
  // the same answer over plain HTTP: the error type header and Lambda's body, `message` in lower case
  const raw = await fetch(`${url}/2015-03-31/functions/echo/configuration`, { method: 'PUT', body: JSON.stringify({ Timeout: 9 }) })
  t.equal(raw.status, 409)
  t.equal(raw.headers.get('x-amzn-errortype'), 'ResourceConflictException')
  t.same(await raw.json(), { Type: 'User', message: `The operation cannot be performed at this time. An update is in progress for resource: ${ARN}` })
  // PublishVersion during the update: the same 409 (the deployer waits before it publishes)
  t.match(await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' })).catch((e: unknown) => e), { name: 'ResourceConflictException' })

  // test_lambda_api.py::TestLambdaRevisions::test_function_revisions_basic -> get_function_response_rev6
  await settled(lambda)
  const after = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }))
  t.match(after.Configuration, { LastUpdateStatus: 'Successful', Description: 'First version :)' })
  t.equal(after.Configuration?.LastUpdateStatusReason, undefined, 'no reason once the update is done')
  t.not(after.Configuration?.RevisionId, updated.RevisionId, 'an update completing renews the RevisionId again')
})

t.test('a stale RevisionId is 412 PreconditionFailedException for UpdateFunctionConfiguration and PublishVersion, and changes nothing', async (t) => {
  const { lambda } = await setup(t)
  const current = await latestRevision(lambda)

  // test_lambda_api.py::TestLambdaRevisions::test_function_revisions_basic -> update_function_configuration_revision_exception
  const staleUpdate = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 8, RevisionId: 'wrong' })).catch((e: unknown) => e)
  t.match(staleUpdate, { name: 'PreconditionFailedException', Type: 'User', message: REVISION_MISMATCH, $metadata: { httpStatusCode: 412 } })
  // test_lambda_api.py::TestLambdaVersions::test_publish_with_wrong_revisionid -> publish_wrong_revisionid_exc
  // test_lambda_api.py::TestLambdaRevisions::test_function_revisions_version_and_alias -> publish_version_revision_exception
  const stalePublish = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', RevisionId: 'wrong' })).catch((e: unknown) => e)
  t.match(stalePublish, { name: 'PreconditionFailedException', Type: 'User', message: REVISION_MISMATCH, $metadata: { httpStatusCode: 412 } })

  const unchanged = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  t.equal(unchanged.RevisionId, current)
  t.equal(unchanged.LastUpdateStatus, 'Successful')
  t.same((await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }))).Versions?.map((v) => v.Version), ['$LATEST'])
})

t.test('publishing renews $LATEST\'s RevisionId, takes $LATEST\'s description when given none, and an unchanged publish answers the same version', async (t) => {
  const { lambda } = await setup(t)
  // test_lambda_api.py::TestLambdaRevisions::test_function_revisions_version_and_alias -> get_function_active_rev2,
  // publish_version_response_rev_v1, get_function_published_version_rev_v2, get_function_latest_rev3
  const rev2 = await latestRevision(lambda)
  const v1 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', RevisionId: rev2 }))
  t.match(v1, { Version: '1', FunctionArn: `${ARN}:1`, LastUpdateStatus: 'Successful', State: 'Active', $metadata: { httpStatusCode: 201 } })
  t.not(v1.RevisionId, rev2)
  const rev3 = await latestRevision(lambda)
  t.not(rev3, rev2, 'publishing gives $LATEST a new RevisionId')
  t.not(rev3, v1.RevisionId, '$LATEST\'s new RevisionId is not the version\'s')
  const v1Read = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo', Qualifier: '1' }))
  t.equal(v1Read.Configuration?.RevisionId, v1.RevisionId, 'a version keeps the RevisionId it was published with')
  t.equal(v1.Description, 'No version :(', 'no Description: the version takes $LATEST\'s')
  const stale = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', RevisionId: rev2 })).catch((e: unknown) => e)
  t.match(stale, { name: 'PreconditionFailedException' }, 'the RevisionId read before the publish is stale after it')

  // test_lambda_api.py::TestLambdaVersions::test_version_lifecycle -> second_update_response, second_publish_response,
  // third_publish_response
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Description: 'Second version :))', Environment: { Variables: { GREETING: 'two' } } }))
  await settled(lambda)
  const v2 = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))
  t.match(v2, { Version: '2', Description: 'Second version :))' }, 'no Description: the version takes $LATEST\'s')
  const again = await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'Third version description :)))' }))
  t.match(again, { Version: '2', Description: 'Second version :))', RevisionId: v2.RevisionId }, 'nothing changed: the same version, as it was')
})

t.test('ListVersionsByFunction lists $LATEST and each version without State or LastUpdateStatus', async (t) => {
  const { lambda } = await setup(t)
  await lambda.send(new PublishVersionCommand({ FunctionName: 'echo', Description: 'First version description :)' }))
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: 'two' } } }))

  // test_lambda_api.py::TestLambdaVersions::test_version_lifecycle -> list_versions_result,
  // list_versions_result_after_third_publish (listed while an update is in progress too)
  const listed = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }))
  t.same(listed.Versions?.map((v) => [v.Version, v.FunctionArn, v.Description]), [
    ['$LATEST', `${ARN}:$LATEST`, 'No version :('],
    ['1', `${ARN}:1`, 'First version description :)'],
  ])
  for (const version of listed.Versions ?? []) {
    t.notOk('State' in version || 'StateReason' in version, `${version.Version} lists no State`)
    t.notOk('LastUpdateStatus' in version || 'LastUpdateStatusReason' in version, `${version.Version} lists no LastUpdateStatus`)
    t.match(version.RevisionId, /^[0-9a-f-]{36}$/)
  }
  const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  t.equal(listed.Versions?.[0]?.RevisionId, latest.RevisionId, '$LATEST is listed with its current RevisionId')
})
