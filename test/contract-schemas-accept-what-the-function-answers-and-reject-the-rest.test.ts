import t, { type Test } from 'tap'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import {
  eventPinOf, InvokeAnswerSchema, InvokeEventSchema, S3NotificationAnswerSchema, S3RecordErrorSchema,
  S3RecordOutputSchema, WarmupAnswerSchema,
} from '../src/contract/invoke.js'
import { MAX_TOP_K } from '../src/contract/limits.js'
import { isBucketName, isSha256, isValidName, isVersionId } from '../src/contract/rules.js'
import { BucketNameSchema, NameSchema, Sha256Schema, TopKSchema, VersionIdSchema } from '../src/contract/schemas.js'
import { testS3Client } from './helpers/s3.js'
import * as images from './helpers/images.js'
import { handlerTestbed, pinOf } from './helpers/models.js'

const s3 = testS3Client()
const context = { awsRequestId: 'req-contract' }

/**
 * A malformed variant of a real answer: a deep copy with the field at `path` set to `value`, or deleted when no value
 * is given.
 */
function broken (answer: unknown, path: Array<string | number>, ...value: [unknown?]): unknown {
  const copy = structuredClone(answer)
  let parent = copy as Record<string | number, unknown>
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>
  const last = path[path.length - 1]!
  if (value.length === 0) delete parent[last]
  else parent[last] = value[0]
  return copy
}

function checkEach (t: Test, schema: TSchema, what: string, good: unknown, bad: Array<[string, unknown]>): void {
  t.ok(Value.Check(schema, good), `${what}: the real one is accepted`)
  for (const [how, value] of bad) t.notOk(Value.Check(schema, value), `${what}: refused ${how}`)
}

t.test('the answers the function gives to each event kind, and the objects it writes, match the contract', async (t) => {
  const { model, inputs, outputs, handler } = await handlerTestbed(t, s3, [1, 1])
  const put = async (key: string, body: Buffer) =>
    (await s3.send(new PutObjectCommand({ Bucket: inputs, Key: key, Body: body }))).VersionId!
  const red = await put('red.jpg', await images.colourPhoto('red'))
  const text = await put('notes.jpg', images.textFile())

  // The event as the registry builds it: an S3 image and the pin of a release (with digests), top 1.
  const event = { image: { bucket: inputs, key: 'red.jpg', versionId: red }, model: eventPinOf(pinOf(model, 2, 2)), topK: 1 }
  t.ok(Value.Check(InvokeEventSchema, event), 'the registry\'s event is a direct-invoke event')
  const answer = await handler(event, context)
  checkEach(t, InvokeAnswerSchema, 'a prediction', answer, [
    ['without predictions', broken(answer, ['predictions'])],
    ['with a score as text', broken(answer, ['predictions', 0, 'score'], '0.9')],
    ['with a fractional class index', broken(answer, ['predictions', 0, 'index'], 1.5)],
    ['without the weights VersionId', broken(answer, ['model', 'weightsVersionId'])],
    ['without timings', broken(answer, ['timings'])],
    ['with a cold start as text', broken(answer, ['environment', 'coldStart'], 'yes')],
    ['with fractional cache hits', broken(answer, ['cache', 'hits'], 0.5)],
    ['with a release as text', broken(answer, ['model', 'release'], '2')],
    ['with release 0', broken(answer, ['model', 'release'], 0)],
    ['with a malformed weights sha256', broken(answer, ['model', 'weightsSha256'], 'abc')],
  ])
  t.ok(Value.Check(InvokeAnswerSchema, broken(answer, ['model', 'release'], 2)), 'a release number is accepted')
  // a version published before answers named their release answers without release and digests: still valid
  const old = broken(broken(broken(answer, ['model', 'release']), ['model', 'weightsSha256']), ['model', 'labelsSha256'])
  t.ok(Value.Check(InvokeAnswerSchema, old), 'an answer of a version published before provenance is accepted')
  t.notOk(Value.Check(WarmupAnswerSchema, answer), 'a prediction is not a warm-up answer')

  const warm = await handler({ warmup: true }, context)
  checkEach(t, WarmupAnswerSchema, 'a warm-up', warm, [
    ['saying it is not warm', broken(warm, ['warm'], false)],
    ['without its model', broken(warm, ['model'])],
    ['without its environment', broken(warm, ['environment'])],
  ])
  t.notOk(Value.Check(InvokeAnswerSchema, warm), 'a warm-up answer is not a prediction')

  const record = (key: string, versionId: string) => ({
    eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: inputs }, object: { key, versionId } },
  })
  const notified = await handler({ Records: [record('red.jpg', red), record('notes.jpg', text)] }, context)
  checkEach(t, S3NotificationAnswerSchema, 'an S3 notification\'s answer', notified, [
    ['without records', broken(notified, ['records'])],
    ['with a record without its input', broken(notified, ['records', 0, 'input'])],
    ['with an input VersionId that is a number', broken(notified, ['records', 0, 'input', 'versionId'], 7)],
  ])

  const readJson = async (key: string): Promise<unknown> =>
    JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: outputs, Key: key }))).Body!.transformToString())
  const output = await readJson('red.jpg.json')
  checkEach(t, S3RecordOutputSchema, 'a record\'s output object', output, [
    ['without its input', broken(output, ['input'])],
    ['with an input without a key', broken(output, ['input', 'key'])],
    ['without predictions', broken(output, ['predictions'])],
  ])
  t.ok(Value.Check(InvokeAnswerSchema, output), 'a record\'s output carries the direct answer')
  const failure = await readJson('notes.jpg.error.json')
  checkEach(t, S3RecordErrorSchema, 'a record\'s error object', failure, [
    ['without a code', broken(failure, ['error', 'code'])],
    ['with the error as text', broken(failure, ['error'], 'invalid_image')],
    ['without its input', broken(failure, ['input'])],
  ])
  t.notOk(Value.Check(S3RecordOutputSchema, failure), 'an error object is not an output')
})

t.test('the direct-invoke event schema takes the documented shapes and refuses malformed ones', async (t) => {
  const weightsVersionId = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'
  const labelsVersionId = 'null'
  const digest = 'a'.repeat(64)
  const s3Image = { bucket: 'photos', key: 'cats/1.jpg' }
  checkEach(t, InvokeEventSchema, 'an event', { image: s3Image }, [
    ['without an image', {}],
    ['with an image URL', { image: { url: 'http://example.com/1.jpg' } }],
    ['with an image without a key', { image: { bucket: 'photos' } }],
    ['with an empty image VersionId', { image: { ...s3Image, versionId: '' } }],
    ['with a one-letter bucket', { image: { bucket: 'p', key: 'k' } }],
    ['with base64 that is not text', { image: { base64: 42 } }],
    ['with topK 0', { image: s3Image, topK: 0 }],
    [`with topK over ${MAX_TOP_K}`, { image: s3Image, topK: MAX_TOP_K + 1 }],
    ['with a fractional topK', { image: s3Image, topK: 2.5 }],
    ['with a pin of one version', { image: s3Image, model: { weightsVersionId } }],
    ['with a pin whose VersionId has a space', { image: s3Image, model: { weightsVersionId: 'a b', labelsVersionId } }],
    ['with an uppercase digest', { image: s3Image, model: { weightsVersionId, labelsVersionId, weightsSha256: digest.toUpperCase() } }],
    ['with a null digest', { image: s3Image, model: { weightsVersionId, labelsVersionId, labelsSha256: null } }],
  ])
  for (const good of [
    { image: { base64: 'aGVsbG8=' } },
    { image: { ...s3Image, versionId: weightsVersionId }, topK: MAX_TOP_K },
    { image: s3Image, model: { weightsVersionId, labelsVersionId } },
    { image: s3Image, model: { weightsVersionId, labelsVersionId, weightsSha256: digest, labelsSha256: digest }, topK: 1 },
  ]) t.ok(Value.Check(InvokeEventSchema, good), `accepted: ${JSON.stringify(good)}`)

  const location = { bucket: 'models', weightsKey: 'resnet/model.onnx', labelsKey: 'resnet/labels.txt' }
  t.same(eventPinOf({ ...location, weightsVersionId, labelsVersionId }), { weightsVersionId, labelsVersionId },
    'a pin without digests sends none')
  t.same(eventPinOf({ ...location, weightsVersionId, labelsVersionId, weightsSha256: digest, labelsSha256: undefined }),
    { weightsVersionId, labelsVersionId, weightsSha256: digest }, 'a pin sends the digests it has')
})

t.test('each rule\'s schema accepts exactly what its function accepts', async (t) => {
  const rules: Array<[string, TSchema, (value: unknown) => boolean, unknown[]]> = [
    ['name', NameSchema, isValidName, ['resnet', 'resnet-50', 'a.b', 'x'.repeat(63), 'x'.repeat(64), '', 'a..b', '-a', 'A', 'a/b', 'é', 7]],
    ['VersionId', VersionIdSchema, isVersionId, ['null', 'AbC.123_x-y', '~!', 'x'.repeat(1024), 'x'.repeat(1025), '', 'a b', 'a\nb', 'é', 7]],
    ['sha256', Sha256Schema, isSha256, ['0'.repeat(64), 'f'.repeat(64), 'F'.repeat(64), '0'.repeat(63), '0'.repeat(65), 'g'.repeat(64), null]],
    ['bucket', BucketNameSchema, isBucketName, ['abc', 'My_Legacy.Bucket-1', 'x'.repeat(255), 'x'.repeat(256), 'ab', 'a b', 'a/b', '']],
  ]
  for (const [what, schema, accepts, samples] of rules) {
    for (const sample of samples) t.equal(Value.Check(schema, sample), accepts(sample), `${what} ${JSON.stringify(sample)?.slice(0, 20)}`)
  }
  t.ok(Value.Check(TopKSchema, 1) && Value.Check(TopKSchema, MAX_TOP_K) && !Value.Check(TopKSchema, MAX_TOP_K + 1), 'topK: 1 to MAX_TOP_K')
})
