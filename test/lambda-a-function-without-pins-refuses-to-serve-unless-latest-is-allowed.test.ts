import t from 'tap'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { type Classification, type S3EventResult, type WarmupResult } from '../lambda/handler.js'
import { testS3Client } from './helpers/s3.js'
import { colourPhoto } from './helpers/images.js'
import { handlerTestbed, expectedLabel } from './helpers/models.js'

const s3 = testS3Client()
const context = { awsRequestId: 'req' }

t.test('without version IDs every request that needs the configuration\'s pin is refused, saying why', async (t) => {
  const { model, inputs, outputs, handler } = await handlerTestbed(t, s3, null)
  const image = { base64: (await colourPhoto('red')).toString('base64') }

  const refusal = { name: 'ModelNotPinnedError', message: /serves only pinned S3 versions: MODEL_WEIGHTS_VERSION_ID and MODEL_LABELS_VERSION_ID are not set/ }
  await t.rejects(handler({ image }, context), refusal)
  await t.rejects(handler({ warmup: true }, context), refusal)

  await s3.send(new PutObjectCommand({ Bucket: inputs, Key: 'red.jpg', Body: await colourPhoto('red') }))
  const records = await handler({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: inputs }, object: { key: 'red.jpg' } } }] }, context) as S3EventResult
  t.equal(records.records[0]!.error, 'model_not_pinned')
  const written = JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: outputs, Key: 'red.jpg.error.json' }))).Body!.transformToString())
  t.equal(written.error.code, 'model_not_pinned')

  // A request that names its own versions is still served: it does not rely on "latest".
  const pinned = await handler({ image, model: { weightsVersionId: model.weights[0], labelsVersionId: model.labels[1] } }, context) as Classification
  t.equal(pinned.predictions[0]!.label, expectedLabel(1, 2, 'red'))
})

t.test('with MODEL_ALLOW_LATEST=1 the latest versions answer, and the answer names them', async (t) => {
  const { model, handler } = await handlerTestbed(t, s3, null, { MODEL_ALLOW_LATEST: '1' })
  const out = await handler({ image: { base64: (await colourPhoto('red')).toString('base64') } }, context) as Classification
  // uploadTinyModel uploads version 2 of each key last.
  t.equal(out.predictions[0]!.label, expectedLabel(2, 2, 'red'))
  t.same([out.model.weightsVersionId, out.model.labelsVersionId], [model.weights[1], model.labels[1]])
  const warm = await handler({ warmup: true }, context) as WarmupResult
  t.equal(warm.cache.loads, 1, 'the latest versions resolve to the same cached pair')
})
