import { createServer } from 'node:net'
import t from 'tap'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { createHandler, type S3EventResult } from '../lambda/handler.js'
import { createS3Client } from '../src/aws/s3-client.js'
import { InferenceError } from '../src/inference/errors.js'
import { S3_CREDENTIALS, S3_SETTINGS, createTestBucket, testS3Client } from './helpers/s3.js'
import * as images from './helpers/images.js'
import { capturingLogger, expectedLabel, handlerConfig, uploadTinyModel } from './helpers/models.js'

const s3 = testS3Client()
const context = { awsRequestId: 'req-s3' }

/** An S3 notification as AWS sends it: keys URL-encoded with '+' for spaces, size a number. */
function notification (bucket: string, objects: Array<{ key: string, versionId?: string | undefined, size?: number }>) {
  return {
    Records: objects.map((o) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(o.key).replace(/%20/g, '+').replace(/%2F/g, '/'), size: o.size ?? 1, versionId: o.versionId },
      },
    })),
  }
}

async function setup (t: Parameters<typeof createTestBucket>[0]) {
  const bucket = await createTestBucket(t, s3)
  const inputs = await createTestBucket(t, s3)
  const outputs = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const { logger, lines } = capturingLogger()
  const config = handlerConfig(model, outputs, [1, 1], { OUTPUT_PREFIX: 'results/', MODEL_RELEASE: '3' })
  return { model, inputs, outputs, config, lines, handler: createHandler(config, { s3, logger }) }
}

const readJson = async (bucket: string, key: string) =>
  JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString())

t.test('three records with one bad: two results and one error object, each at its key', async (t) => {
  const { model, inputs, outputs, handler } = await setup(t)
  const put = async (key: string, body: Buffer) => (await s3.send(new PutObjectCommand({ Bucket: inputs, Key: key, Body: body }))).VersionId
  const red = await put('photos/red apple.jpg', await images.colourPhoto('red'))
  const text = await put('photos/notes.jpg', images.textFile())
  const blue = await put('photos/sky.jpg', await images.colourPhoto('blue'))
  const event = notification(inputs, [
    { key: 'photos/red apple.jpg', versionId: red }, { key: 'photos/notes.jpg', versionId: text }, { key: 'photos/sky.jpg', versionId: blue },
  ])
  const result = await handler(event, context) as S3EventResult
  t.same(result.records.map((r) => [r.output, r.error]), [
    ['results/photos/red apple.jpg.json', undefined],
    ['results/photos/notes.jpg.error.json', 'invalid_image'],
    ['results/photos/sky.jpg.json', undefined],
  ])

  const apple = await readJson(outputs, 'results/photos/red apple.jpg.json')
  t.equal(apple.predictions[0].label, expectedLabel(1, 1, 'red'))
  t.same(apple.input, { bucket: inputs, key: 'photos/red apple.jpg', versionId: red })
  t.same(apple.model, {
    bucket: model.bucket,
    weightsKey: model.weightsKey,
    weightsVersionId: model.weights[0],
    labelsKey: model.labelsKey,
    labelsVersionId: model.labels[0],
    release: 3,
    weightsSha256: model.sha256.weights[0],
    labelsSha256: model.sha256.labels[0],
  }, 'the output object names the configuration\'s release (MODEL_RELEASE) and the digests')
  t.match(apple, { cache: { loads: 1 }, environment: { id: String }, timings: { totalMs: Number } })
  t.equal((await readJson(outputs, 'results/photos/sky.jpg.json')).predictions[0].label, expectedLabel(1, 1, 'blue'))
  const error = await readJson(outputs, 'results/photos/notes.jpg.error.json')
  t.same(Object.keys(error).sort(), ['error', 'input'])
  t.equal(error.error.code, 'invalid_image')
  t.match(error.error.message, /not an image/)
  t.same(error.input, { bucket: inputs, key: 'photos/notes.jpg', versionId: text })

  const keys = async () => ((await s3.send(new ListObjectsV2Command({ Bucket: outputs }))).Contents ?? []).map((o) => o.Key).sort()
  const before = await keys()
  t.equal(before.length, 3)

  // The same event again (Lambda retries, S3 delivers twice): the same three keys, overwritten, nothing added.
  const again = await handler(event, context) as S3EventResult
  t.same(again.records.map((r) => r.output), result.records.map((r) => r.output))
  t.same(await keys(), before)
  const rewritten = await readJson(outputs, 'results/photos/red apple.jpg.json')
  t.ok(rewritten.cache.hits > apple.cache.hits, 'the second write (a cache hit) replaced the first (a load)')
})

t.test('a record without a VersionId (unversioned input bucket) reads the object as it is', async (t) => {
  const { inputs, outputs, handler } = await setup(t)
  const plain = await createTestBucket(t, s3, { versioned: false })
  await s3.send(new PutObjectCommand({ Bucket: plain, Key: 'g.jpg', Body: await images.colourPhoto('green') }))
  const result = await handler(notification(plain, [{ key: 'g.jpg' }]), context) as S3EventResult
  t.equal(result.records[0]!.output, 'results/g.jpg.json')
  const out = await readJson(outputs, 'results/g.jpg.json')
  t.equal(out.predictions[0].label, expectedLabel(1, 1, 'green'))
  t.equal(out.input.versionId, null)
  t.ok(inputs)
})

t.test('records this function wrote itself, and removals, are skipped rather than classified', async (t) => {
  const { outputs, handler } = await setup(t)
  const own = await handler(notification(outputs, [{ key: 'results/a.jpg.json' }]), context) as S3EventResult
  t.match(own.records[0], { output: undefined, skipped: /result of this function/ })
  const removed = notification(outputs, [{ key: 'x.jpg' }])
  removed.Records[0]!.eventName = 'ObjectRemoved:Delete'
  t.match((await handler(removed, context) as S3EventResult).records[0], { skipped: /ObjectRemoved/ })
})

t.test('a transient S3 failure is rethrown as it is, so Lambda retries the event', async (t) => {
  const { config } = await setup(t)
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  const unreachable = createS3Client({ ...S3_SETTINGS, endpoint: `http://127.0.0.1:${port}` }, S3_CREDENTIALS)
  t.teardown(() => unreachable.destroy())
  const { logger, lines } = capturingLogger()
  const handler = createHandler(config, { s3: unreachable, logger })
  const error = await handler(notification('inputs', [{ key: 'a.jpg', versionId: 'v1' }]), context).then(() => undefined, (e: unknown) => e)
  t.ok(error instanceof Error, 'the invocation fails')
  t.notOk(error instanceof InferenceError, 'with the S3 client\'s own error, not a bad-input error')
  t.match(error, { code: 'ECONNREFUSED' })
  t.ok(lines.some((l) => l.msg === 'invocation failed' && l.level === 50), 'logged as an error with its stack')
})
