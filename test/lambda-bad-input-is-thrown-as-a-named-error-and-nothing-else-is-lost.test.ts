import t from 'tap'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { type Classification } from '../lambda/handler.js'
import { InferenceError } from '../src/inference/errors.js'
import { MAX_INPUT_PIXELS } from '../src/inference/preprocess.js'
import { testS3Client } from './helpers/s3.js'
import * as images from './helpers/images.js'
import { handlerTestbed, expectedLabel, labelsText } from './helpers/models.js'

const s3 = testS3Client()
let request = 0
const context = () => ({ awsRequestId: `req-${++request}` })

t.test('each bad input gets its own error type and a message saying what was wrong', async (t) => {
  const { model, inputs, handler, lines } = await handlerTestbed(t, s3, [1, 1])
  const bucket = model.bucket
  const put = async (key: string, body: Buffer | string) =>
    (await s3.send(new PutObjectCommand({ Bucket: inputs, Key: key, Body: body }))).VersionId!
  const image = (key: string, versionId?: string) => ({ image: { bucket: inputs, key, versionId } })

  const red = await put('red.jpg', await images.colourPhoto('red'))
  const good = await handler(image('red.jpg', red), context()) as Classification
  t.equal(good.predictions[0]!.label, expectedLabel(1, 1, 'red'))

  const bad: Array<[string, unknown, string, RegExp]> = [
    ['a text file', image('notes.txt', await put('notes.txt', images.textFile())), 'InvalidImageError', /not an image/],
    ['a truncated JPEG', image('cut.jpg', await put('cut.jpg', images.truncatedJpeg())), 'InvalidImageError', /premature end/i],
    ['an empty object', image('empty.jpg', await put('empty.jpg', Buffer.alloc(0))), 'InvalidImageError', /empty/],
    ['a 1x1 image', image('dot.png', await put('dot.png', await images.onePixelPng())), 'ImageTooSmallError', /1x1/],
    ['an image over the pixel limit', image('huge.png', await put('huge.png', images.overPixelLimitPng())), 'ImageTooLargeError', new RegExp(`${MAX_INPUT_PIXELS}`)],
    ['an unknown image VersionId', image('red.jpg', 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'), 'VersionNotFoundError',
      new RegExp(`s3://${inputs}/red.jpg \\(VersionId AbCdEfGhIjKlMnOpQrStUvWxYz012345\\) does not exist`)],
    ['a missing image key', image('nothing.jpg'), 'VersionNotFoundError', new RegExp(`s3://${inputs}/nothing.jpg \\(latest version\\)`)],
    ['an unknown weights VersionId', { ...image('red.jpg'), model: { weightsVersionId: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345', labelsVersionId: model.labels[0] } },
      'VersionNotFoundError', new RegExp(`s3://${bucket}/${model.weightsKey} \\(VersionId AbCdEfGhIjKlMnOpQrStUvWxYz012345\\)`)],
    ['weights that are not ONNX', { ...image('red.jpg'), model: { weightsVersionId: await putModel(bucket, model.weightsKey, 'not onnx'), labelsVersionId: model.labels[0] } },
      'InvalidModelError', /not an ONNX model/],
    ['labels whose count does not match', { ...image('red.jpg'), model: { weightsVersionId: model.weights[0], labelsVersionId: await putModel(bucket, model.labelsKey, labelsText(1, 10)) } },
      'LabelsMismatchError', /has 10 labels but the model has 1000 classes/],
    ['a pin with one version', { ...image('red.jpg'), model: { weightsVersionId: model.weights[0] } }, 'InvalidPinError', /labelsVersionId is missing/],
    ['a pin with a bad digest', { ...image('red.jpg'), model: { weightsVersionId: model.weights[0], labelsVersionId: model.labels[0], labelsSha256: 'xyz' } },
      'InvalidPinError', /labelsSha256 must be 64 lowercase hex/],
    ['a pin whose digest does not match', { ...image('red.jpg'), model: { weightsVersionId: model.weights[0], labelsVersionId: model.labels[0], weightsSha256: model.sha256.weights[1] } },
      'ChecksumMismatchError', /has sha256/],
    ['an event of unknown shape', { hello: 'world' }, 'UnknownEventError', /unknown event shape \(keys: hello\)/],
    ['a bare string', 'classify this', 'UnknownEventError', /string, not an object/],
    ['a record from another service', { Records: [{ eventSource: 'aws:sqs' }] }, 'UnknownEventError', /Records\[0\] is not an S3 notification record/],
    ['a bad topK', { ...image('red.jpg'), topK: 0 }, 'InvalidEventError', /topK must be a positive integer/],
    ['an image that is neither S3 nor base64', { image: { url: 'http://x' } }, 'InvalidEventError', /image must be/],
    ['invalid base64', { image: { base64: '***' } }, 'InvalidEventError', /not valid base64/],
  ]
  for (const [what, event, name, message] of bad) {
    const error = await handler(event, context()).then(() => undefined, (e: unknown) => e)
    t.ok(error instanceof InferenceError, `${what}: an InferenceError`)
    t.match(error, { name, message }, `${what}: ${name}`)
  }

  // Photos that only look unusual classify fine.
  const fine: Array<[string, Buffer, string | undefined]> = [
    ['PNG with alpha', await images.pngWithAlpha('red'), expectedLabel(1, 1, 'red')],
    ['CMYK JPEG', images.cmykJpeg(), expectedLabel(1, 1, 'red')],
    ['greyscale JPEG', await images.greyscaleJpeg(), undefined],
    ['EXIF-rotated JPEG', images.exifRotatedJpeg(), expectedLabel(1, 1, 'green')],
  ]
  for (const [what, bytes, label] of fine) {
    const out = await handler(image(what, await put(what, bytes)), context()) as Classification
    t.equal(out.predictions.length, 5, `${what} classifies`)
    if (label !== undefined) t.equal(out.predictions[0]!.label, label, `${what} keeps its colour`)
  }

  // Nothing else was lost: the configured model is still in memory and answers.
  const after = await handler(image('red.jpg', red), context()) as Classification
  t.equal(after.predictions[0]!.label, expectedLabel(1, 1, 'red'))
  t.equal(after.environment.id, good.environment.id)
  t.ok(after.cache.loads >= 1 && after.cache.bytes > 0)
  const refusals = lines.filter((l) => l.msg === 'invocation refused')
  t.equal(refusals.length, bad.length, 'each refusal is logged once')
  t.ok(refusals.every((l) => typeof l.requestId === 'string' && typeof l.code === 'string' && l.err === undefined), 'with request id and code, without a stack')

  async function putModel (b: string, key: string, body: string): Promise<string> {
    return (await s3.send(new PutObjectCommand({ Bucket: b, Key: key, Body: body }))).VersionId!
  }
})
