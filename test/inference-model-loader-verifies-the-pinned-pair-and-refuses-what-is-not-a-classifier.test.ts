import t from 'tap'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { loadModel, validatePin } from '../src/inference/model-loader.js'
import { preprocessImage, IMAGENET_PREPROCESS } from '../src/inference/preprocess.js'
import { scores, topK } from '../src/inference/top-k.js'
import { buildModel } from '../src/local/demo-models/resnet.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'
import { colourPhoto } from './helpers/images.js'
import { demoLabels, expectedLabel, labelsText, pinOf, sha256, tinyWeights, uploadTinyModel } from './helpers/models.js'

const s3 = testS3Client()

t.test('the pinned weights and labels load with their digests, and the session describes itself', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const loaded = await loadModel(s3, pinOf(model, 2, 1))
  t.teardown(() => loaded.classifier.release())
  t.equal(loaded.classifier.inputName, 'data')
  t.equal(loaded.classifier.inputSize, 224)
  t.equal(loaded.classifier.classCount, 1000)
  t.equal(loaded.labels.length, 1000)
  t.equal(loaded.weightsSha256, model.sha256.weights[1])
  t.equal(loaded.labelsSha256, model.sha256.labels[0])
  t.equal(loaded.bytes, tinyWeights(2).byteLength + demoLabels(1).byteLength)
  const out = await loaded.classifier.run(await preprocessImage(await colourPhoto('red')), 224)
  t.equal(topK(scores(out), loaded.labels, 1)[0]!.label, expectedLabel(2, 1, 'red'))
})

t.test('input name and size come from the session, so a model exported another way loads unchanged', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const { bytes } = buildModel('tiny', 1, 7, undefined, { name: 'input.1', size: 160 })
  const w = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm.onnx', Body: bytes }))
  const l = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'l.txt', Body: labelsText(1) }))
  const loaded = await loadModel(s3, { bucket, weightsKey: 'm.onnx', weightsVersionId: w.VersionId!, labelsKey: 'l.txt', labelsVersionId: l.VersionId! })
  t.teardown(() => loaded.classifier.release())
  t.equal(loaded.classifier.inputName, 'input.1')
  t.equal(loaded.classifier.inputSize, 160)
  const input = await preprocessImage(await colourPhoto('blue'), { ...IMAGENET_PREPROCESS, size: 160, resize: 183 })
  t.equal(topK(scores(await loaded.classifier.run(input, 160)), loaded.labels, 1)[0]!.label, expectedLabel(1, 1, 'blue'))
})

t.test('weights that are not ONNX, labels of the wrong count and wrong digests are refused by name', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const notOnnx = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: model.weightsKey, Body: 'this is not a model' }))
  const short = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: model.labelsKey, Body: labelsText(1, 999) }))
  const empty = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: model.weightsKey, Body: Buffer.alloc(0) }))

  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1, false), weightsVersionId: notOnnx.VersionId! }), {
    name: 'InvalidModelError', message: /not an ONNX model/,
  })
  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1, false), weightsVersionId: empty.VersionId! }), {
    name: 'InvalidModelError', message: /empty/,
  })
  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1, false), labelsVersionId: short.VersionId! }), {
    name: 'LabelsMismatchError',
    message: `s3://${bucket}/${model.labelsKey} (VersionId ${short.VersionId}) has 999 labels but the model has 1000 classes`,
  })
  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1), weightsSha256: sha256(Buffer.from('other')) }), {
    name: 'ChecksumMismatchError', message: new RegExp(`${model.weightsKey} \\(VersionId ${model.weights[0]}\\) has sha256 ${model.sha256.weights[0]}`),
  })
  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1), labelsSha256: model.sha256.labels[1] }), {
    name: 'ChecksumMismatchError', message: new RegExp(`${model.labelsKey} \\(VersionId ${model.labels[0]}\\)`),
  })
})

t.test('when one download fails the other is cancelled and the first failure is the one reported', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const unknown = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'
  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1), labelsVersionId: unknown }), {
    name: 'VersionNotFoundError', message: `s3://${bucket}/${model.labelsKey} (VersionId ${unknown}) does not exist`,
  })
  await t.rejects(loadModel(s3, { ...pinOf(model, 1, 1), weightsVersionId: unknown }), {
    name: 'VersionNotFoundError', message: `s3://${bucket}/${model.weightsKey} (VersionId ${unknown}) does not exist`,
  })
})

t.test('a malformed pin is an InvalidPinError naming the field', async (t) => {
  const pin = { bucket: 'b', weightsKey: 'w', labelsKey: 'l', weightsVersionId: 'v1', labelsVersionId: 'v2' }
  t.equal(validatePin(pin, 'the event'), pin)
  t.throws(() => validatePin({ ...pin, weightsVersionId: '' }, 'the event'), { name: 'InvalidPinError', message: /the event: weightsVersionId/ })
  t.throws(() => validatePin({ ...pin, labelsVersionId: 'has space' }, 'the event'), { name: 'InvalidPinError', message: /labelsVersionId/ })
  t.throws(() => validatePin({ ...pin, weightsSha256: 'ABC' }, 'the event'), { name: 'InvalidPinError', message: /weightsSha256 must be 64 lowercase hex/ })
})
