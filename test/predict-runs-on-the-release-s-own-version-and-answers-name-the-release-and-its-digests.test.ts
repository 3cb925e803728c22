import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { invokeWithTestImage, lambdaAlias, publishedVersions, releaseLabel, testImageBase64 } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'

t.test('predicting a release production does not serve runs on its own version and leaves live\'s environment as it was', async (t) => {
  const { stack, api, lambda, releases: [release1, release2] } = await startEndToEnd(t)
  const model = `/v1/models/${stack.info.model.name}`
  const provenance = (release: typeof release1): Record<string, unknown> => ({
    release: release.number,
    weightsVersionId: release.weightsVersionId,
    labelsVersionId: release.labelsVersionId,
    weightsSha256: release.weightsSha256,
    labelsSha256: release.labelsSha256,
  })

  // production serves release 1 on its own published version: its answer names release 1 and its digests
  const alias = await lambdaAlias(lambda, stack)
  const before = await invokeWithTestImage(lambda, stack)
  t.equal(before.functionError, undefined, JSON.stringify(before.body))
  t.match(before.body.model, provenance(release1), 'a direct answer carries the release number and sha256s')
  const versionsBefore = await publishedVersions(lambda, stack)

  const predicted = await api.post(`${model}/predict`, { release: 2, image: { base64: await testImageBase64() } })
  t.equal(predicted.status, 200, JSON.stringify(predicted.body))
  t.equal(predicted.body.predictions[0].label, releaseLabel(2))
  t.match(predicted.body.model, provenance(release2), 'the predict answer names release 2 and its digests')
  t.not(predicted.body.environment.id, before.body.environment.id, 'release 2 ran in an environment of its own')
  const versionsAfter = await publishedVersions(lambda, stack)
  t.equal(versionsAfter.length, versionsBefore.length + 1, 'release 2 had no version: predict published one')
  t.same(await lambdaAlias(lambda, stack), alias, 'the Lambda alias did not move')

  // live's environment did not load release 2: the same environment answers, its cache loaded nothing more
  const after = await invokeWithTestImage(lambda, stack)
  t.equal(after.body.environment.id, before.body.environment.id, 'the same warm environment of production answers')
  t.equal(after.body.cache.loads, before.body.cache.loads, 'production\'s cache loaded no model since')
  t.equal(after.body.cache.misses, before.body.cache.misses)
  t.equal(after.body.cache.bytes, before.body.cache.bytes, 'and holds the same bytes')
  t.match(after.body.model, provenance(release1))

  // a second predict reuses release 2's version; predicting the served release runs on production's version
  const again = await api.post(`${model}/predict`, { release: 2, image: { base64: await testImageBase64() } })
  t.equal(again.status, 200)
  t.same(await publishedVersions(lambda, stack), versionsAfter, 'release 2\'s version is reused')
  t.equal(again.body.environment.id, predicted.body.environment.id)
  const served = await api.post(`${model}/predict`, { image: { base64: await testImageBase64() } })
  t.equal(served.status, 200)
  t.match(served.body.model, provenance(release1))
  t.equal(served.body.environment.id, before.body.environment.id, 'predicting the served release shares production\'s environment')
  t.same(await publishedVersions(lambda, stack), versionsAfter)

  // a pin in the event: the answer names no release
  const pinned = await lambda.send(new InvokeCommand({
    FunctionName: stack.info.function.name,
    Qualifier: stack.info.function.alias,
    Payload: Buffer.from(JSON.stringify({
      image: { base64: await testImageBase64() },
      model: { weightsVersionId: release2.weightsVersionId, labelsVersionId: release2.labelsVersionId },
    })),
  }))
  const pinnedBody = JSON.parse(Buffer.from(pinned.Payload ?? new Uint8Array()).toString('utf8'))
  t.equal(pinned.FunctionError, undefined, JSON.stringify(pinnedBody))
  t.equal(pinnedBody.model.release, null, 'a pin from the event has no release')
  t.equal(pinnedBody.model.weightsVersionId, release2.weightsVersionId)
  t.notOk('weightsSha256' in pinnedBody.model, 'the event named no digest')
})
