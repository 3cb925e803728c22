import t from 'tap'
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { invokeWithTestImage, lambdaAlias, publishedVersions, releaseLabel } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'

t.test('promoting release 2 with the alias\'s ETag moves live to a new Lambda version carrying release 2\'s pins', async (t) => {
  const { stack, api, lambda, releases: [release1, release2] } = await startEndToEnd(t)
  const alias = '/v1/models/resnet50/aliases/production'

  const before = await invokeWithTestImage(lambda, stack)
  t.equal(before.body.predictions[0].label, releaseLabel(1), 'live serves release 1 before the promotion')
  t.equal(before.body.model.weightsVersionId, release1.weightsVersionId)
  const versionsBefore = await publishedVersions(lambda, stack)

  const read = await api.get(alias)
  t.equal(read.status, 200)
  t.equal(read.etag, `"${read.body.revision}"`, 'the ETag is the revision in quotes')
  const promoted = await api.post(`${alias}/promote`, { release: 2, reason: 'release 2 is better' }, { 'if-match': read.etag! })
  t.equal(promoted.status, 200, JSON.stringify(promoted.body))
  t.equal(promoted.body.release, 2)
  t.equal(promoted.body.revision, read.body.revision + 1)
  t.equal(promoted.etag, `"${read.body.revision + 1}"`)

  const after = await invokeWithTestImage(lambda, stack)
  t.equal(after.functionError, undefined)
  t.equal(after.body.predictions[0].label, releaseLabel(2), 'the next invocation of live answers with release 2\'s label')
  t.equal(after.body.model.weightsVersionId, release2.weightsVersionId)
  t.equal(after.body.model.labelsVersionId, release2.labelsVersionId)

  const versionsAfter = await publishedVersions(lambda, stack)
  t.equal(versionsAfter.length, versionsBefore.length + 1, 'one new Lambda version was published')
  const live = await lambdaAlias(lambda, stack)
  t.equal(after.executedVersion, live.functionVersion)
  t.same(live.weights, {}, 'no additional routing')
  const configuration = await lambda.send(new GetFunctionConfigurationCommand({
    FunctionName: stack.info.function.name, Qualifier: live.functionVersion,
  }))
  t.match(configuration.Description, /resnet50.*release 2/, 'the version\'s description names model and release')
  t.match(configuration.Environment?.Variables, {
    MODEL_WEIGHTS_VERSION_ID: release2.weightsVersionId,
    MODEL_LABELS_VERSION_ID: release2.labelsVersionId,
    MODEL_WEIGHTS_SHA256: release2.weightsSha256,
    MODEL_LABELS_SHA256: release2.labelsSha256,
    OUTPUT_BUCKET: stack.info.buckets.output,
  }, 'the version carries release 2\'s pins and keeps every other variable')

  const view = await api.get(alias)
  t.equal(view.body.release, 2)
  t.equal(view.body.drift, false)
  t.match(view.body.live, {
    functionName: stack.info.function.name,
    functionAlias: stack.info.function.alias,
    functionVersion: live.functionVersion,
    release: 2,
    canary: null,
    pin: { weightsVersionId: release2.weightsVersionId, labelsVersionId: release2.labelsVersionId },
  })

  const history = await api.get(`${alias}/history`)
  t.match(history.body.history[0], {
    action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'succeeded', reason: 'release 2 is better', actor: 'admin',
  })
  t.match(history.body.history[0].detail, new RegExp(`version ${live.functionVersion}`), 'the entry names the Lambda version')

  const stale = await api.post(`${alias}/promote`, { release: 1 }, { 'if-match': read.etag! })
  t.equal(stale.status, 412, 'the old ETag is stale now')
  t.equal(stale.body.error.code, 'revision_mismatch')
})
