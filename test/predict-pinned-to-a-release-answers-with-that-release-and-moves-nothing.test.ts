import t from 'tap'
import { textFile } from './helpers/images.js'
import {
  invokeWithTestImage, lambdaAlias, publishedVersions, releaseLabel, testImageBase64,
} from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'

t.test('predict with release 1 answers with release 1 while production stays on 2; alias and bad input behave', async (t) => {
  const { stack, api, lambda, releases: [release1, release2], photos } = await startEndToEnd(t, { photos: { 'gate/red.jpg': 'red' } })
  const model = '/v1/models/resnet50'

  const promoted = await api.post(`${model}/aliases/production/promote`, { release: 2 })
  t.equal(promoted.status, 200, JSON.stringify(promoted.body))
  const aliasBefore = await lambdaAlias(lambda, stack)
  const versionsBefore = await publishedVersions(lambda, stack)

  // an image in S3, at its version
  const fromS3 = await api.post(`${model}/predict`, {
    release: 1, image: { bucket: photos.bucket, key: 'gate/red.jpg', versionId: photos.versionIds['gate/red.jpg'] }, topK: 3,
  })
  t.equal(fromS3.status, 200, JSON.stringify(fromS3.body))
  t.equal(fromS3.body.predictions.length, 3)
  t.equal(fromS3.body.predictions[0].label, releaseLabel(1), 'release 1\'s label')
  t.match(fromS3.body.model, {
    weightsVersionId: release1.weightsVersionId,
    labelsVersionId: release1.labelsVersionId,
    release: 1,
    weightsSha256: release1.weightsSha256,
    labelsSha256: release1.labelsSha256,
  })
  // release 1's own version answered: it still had its version from the stack's start, so nothing was published

  // an inline image
  const inline = await api.post(`${model}/predict`, { release: 1, image: { base64: await testImageBase64() } })
  t.equal(inline.status, 200)
  t.equal(inline.body.predictions.length, 5, 'topK defaults to 5')
  t.equal(inline.body.predictions[0].label, releaseLabel(1))
  t.equal(inline.body.model.weightsVersionId, release1.weightsVersionId)

  // nothing moved: the registry alias, the Lambda alias, the published versions; live still answers release 2
  const view = await api.get(`${model}/aliases/production`)
  t.equal(view.body.release, 2)
  t.equal(view.body.revision, promoted.body.revision)
  t.equal(view.body.drift, false)
  t.same(await lambdaAlias(lambda, stack), aliasBefore)
  t.same(await publishedVersions(lambda, stack), versionsBefore, 'predict publishes nothing')
  const live = await invokeWithTestImage(lambda, stack)
  t.equal(live.body.predictions[0].label, releaseLabel(2))

  // by alias: the deploy alias by default, any registry alias by name
  const byDefault = await api.post(`${model}/predict`, { image: { base64: await testImageBase64() } })
  t.equal(byDefault.status, 200)
  t.equal(byDefault.body.predictions[0].label, releaseLabel(2), 'without release or alias: the deploy alias')
  t.equal(byDefault.body.model.weightsVersionId, release2.weightsVersionId)
  const staging = await api.post(`${model}/aliases/staging/promote`, { release: 1 })
  t.equal(staging.status, 200)
  const byAlias = await api.post(`${model}/predict`, { alias: 'staging', image: { base64: await testImageBase64() } })
  t.equal(byAlias.status, 200)
  t.equal(byAlias.body.predictions[0].label, releaseLabel(1), 'alias staging serves release 1')
  t.equal(byAlias.body.model.labelsVersionId, release1.labelsVersionId)
  t.same(await lambdaAlias(lambda, stack), aliasBefore, 'a registry-only alias never touches Lambda')

  // the function's own error comes back as 422 with its error type
  const text = await api.post(`${model}/predict`, { release: 1, image: { base64: textFile().toString('base64') } })
  t.equal(text.status, 422)
  t.equal(text.body.error.code, 'prediction_failed')
  t.match(text.body.error.message, /InvalidImageError/, 'the message names the function\'s error type')

  const unknownRelease = await api.post(`${model}/predict`, { release: 9, image: { base64: await testImageBase64() } })
  t.equal(unknownRelease.status, 422)
  t.equal(unknownRelease.body.error.code, 'unknown_release')
  const unknownAlias = await api.post(`${model}/predict`, { alias: 'nope', image: { base64: await testImageBase64() } })
  t.equal(unknownAlias.status, 404)
  t.equal(unknownAlias.body.error.code, 'alias_not_found')
  const both = await api.post(`${model}/predict`, { release: 1, alias: 'staging', image: { base64: await testImageBase64() } })
  t.equal(both.status, 400)
})
