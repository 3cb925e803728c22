import t from 'tap'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import { type Classification, type WarmupResult } from '../lambda/handler.js'
import { type createTestBucket, testS3Client } from './helpers/s3.js'
import { colourPhoto } from './helpers/images.js'
import { handlerTestbed, demoLabels, expectedLabel, tinyWeights } from './helpers/models.js'

const s3 = testS3Client()
let request = 0
const context = () => ({ awsRequestId: `req-${++request}` })

async function setup (t: Parameters<typeof createTestBucket>[0], env: Record<string, string> = {}) {
  const { model, handler, lines } = await handlerTestbed(t, s3, [1, 1], env)
  const red = { image: { base64: (await colourPhoto('red')).toString('base64') } }
  return { model, handler, red, lines }
}

t.test('a second invocation reads no weights from S3: the version can even be gone', async (t) => {
  const { model, handler, red } = await setup(t)
  const first = await handler(red, context()) as Classification
  t.same(first.cache, { hits: 0, misses: 1, loads: 1, bytes: tinyWeights(1).byteLength + demoLabels(1).byteLength })
  t.equal(first.environment.coldStart, true)
  // Permanently delete the pinned weights version: only a model held in memory can still answer.
  await s3.send(new DeleteObjectCommand({ Bucket: model.bucket, Key: model.weightsKey, VersionId: model.weights[0] }))
  const second = await handler(red, context()) as Classification
  t.equal(second.predictions[0]!.label, expectedLabel(1, 1, 'red'))
  t.same(second.cache, { ...first.cache, hits: 1 })
  t.equal(second.environment.coldStart, false)
  t.equal(second.environment.id, first.environment.id, 'the same execution environment')
})

t.test('switching pins loads the new pair once; switching back is a hit', async (t) => {
  const { model, handler, red } = await setup(t)
  const pin2 = { weightsVersionId: model.weights[1], labelsVersionId: model.labels[0] }
  await handler(red, context())
  const a = await handler({ ...red, model: pin2 }, context()) as Classification
  const b = await handler({ ...red, model: pin2 }, context()) as Classification
  const c = await handler(red, context()) as Classification
  t.equal(a.predictions[0]!.label, expectedLabel(2, 1, 'red'))
  t.equal(a.cache.loads, 2)
  t.equal(b.cache.loads, 2)
  t.equal(c.cache.loads, 2)
  t.equal(c.cache.hits, 2)
  t.equal(c.predictions[0]!.label, expectedLabel(1, 1, 'red'))
})

t.test('with room for one pair, the least recently used pair is evicted by bytes', async (t) => {
  const pairBytes = tinyWeights(1).byteLength + demoLabels(1).byteLength
  // Weights only: a pair loaded from its derived graph (optimized-graph.ts) holds the graph's bytes, not the weights'.
  const { model, handler, red, lines } = await setup(t, { MODEL_CACHE_MAX_BYTES: String(pairBytes + 100), MODEL_OPTIMIZED_GRAPH: 'off' })
  const other = { ...red, model: { weightsVersionId: model.weights[1], labelsVersionId: model.labels[0] } }
  const one = await handler(red, context()) as Classification
  const two = await handler(other, context()) as Classification
  const three = await handler(red, context()) as Classification
  t.same([one.cache.loads, two.cache.loads, three.cache.loads], [1, 2, 3], 'pair 1 was evicted and loads again')
  t.ok(three.cache.bytes <= pairBytes + 100, `${three.cache.bytes} bytes held`)
  t.equal(lines.filter((l) => l.msg === 'model evicted').length, 2)
})

t.test('ten concurrent calls for a version not yet loaded cause one load', async (t) => {
  const { model, handler, red } = await setup(t)
  await handler(red, context())
  const pin = { weightsVersionId: model.weights[1], labelsVersionId: model.labels[1] }
  const answers = await Promise.all(Array.from({ length: 10 }, async () => await handler({ ...red, model: pin }, context()) as Classification))
  t.ok(answers.every((a) => a.predictions[0]!.label === expectedLabel(2, 2, 'red')))
  const last = answers.map((a) => a.cache).sort((x, y) => x.misses - y.misses).at(-1)!
  t.equal(last.loads, 2, 'one load for the first pair, one for the ten calls')
  t.equal(last.misses, 11)
})

t.test('a warm-up event loads the pinned model without an image; the next call is a hit', async (t) => {
  const { model, handler, red } = await setup(t)
  const warm = await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, context()) as WarmupResult
  t.equal(warm.warm, true)
  t.equal(warm.model.weightsVersionId, model.weights[0])
  t.same(warm.cache, { hits: 0, misses: 1, loads: 1, bytes: warm.cache.bytes })
  t.equal(warm.environment.coldStart, true)
  const again = await handler({ warmup: true }, context()) as WarmupResult
  t.equal(again.cache.hits, 1)
  const call = await handler(red, context()) as Classification
  t.same([call.cache.loads, call.cache.hits], [1, 2])
})
