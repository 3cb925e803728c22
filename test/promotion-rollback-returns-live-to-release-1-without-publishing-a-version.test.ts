import t from 'tap'
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { invokeWithTestImage, lambdaAlias, publishedVersions, releaseLabel } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'

t.test('rollback moves live back to release 1\'s published version with no new version, and a second one toggles', async (t) => {
  const { stack, api, lambda, releases: [release1, release2] } = await startEndToEnd(t)
  const alias = '/v1/models/resnet50/aliases/production'

  const version1 = (await lambdaAlias(lambda, stack)).functionVersion
  const promoted = await api.post(`${alias}/promote`, { release: 2 })
  t.equal(promoted.status, 200)
  const version2 = (await lambdaAlias(lambda, stack)).functionVersion
  t.not(version2, version1)
  const versions = await publishedVersions(lambda, stack)
  const latestRevision = async (): Promise<string | undefined> =>
    (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: stack.info.function.name }))).RevisionId
  const latestBefore = await latestRevision()

  const back = await api.post(`${alias}/rollback`, { reason: 'release 2 misbehaves' }, { 'if-match': promoted.etag! })
  t.equal(back.status, 200, JSON.stringify(back.body))
  t.equal(back.body.release, 1)
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version1, 'live points at release 1\'s version again')
  t.same(await publishedVersions(lambda, stack), versions, 'the rollback published no version')
  const onRelease1 = await invokeWithTestImage(lambda, stack)
  t.equal(onRelease1.executedVersion, version1)
  t.equal(onRelease1.body.predictions[0].label, releaseLabel(1))
  t.equal(onRelease1.body.model.weightsVersionId, release1.weightsVersionId)
  t.equal(onRelease1.body.model.labelsVersionId, release1.labelsVersionId)

  const again = await api.post(`${alias}/rollback`, {}, { 'if-match': back.etag! })
  t.equal(again.status, 200)
  t.equal(again.body.release, 2, 'a second rollback toggles back')
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version2)
  t.same(await publishedVersions(lambda, stack), versions, 'still no new version')
  t.equal(await latestRevision(), latestBefore, 'neither rollback updated the function\'s configuration')
  const onRelease2 = await invokeWithTestImage(lambda, stack)
  t.equal(onRelease2.body.predictions[0].label, releaseLabel(2))
  t.equal(onRelease2.body.model.weightsVersionId, release2.weightsVersionId)

  const view = await api.get(alias)
  t.match(view.body, { release: 2, revision: promoted.body.revision + 2, drift: false, live: { functionVersion: version2, release: 2 } })
  const history = await api.get(`${alias}/history`)
  t.match(history.body.history.slice(0, 3), [
    { action: 'rollback', fromRelease: 1, toRelease: 2, outcome: 'succeeded' },
    { action: 'rollback', fromRelease: 2, toRelease: 1, outcome: 'succeeded', reason: 'release 2 misbehaves' },
    { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'succeeded' },
  ])
})
