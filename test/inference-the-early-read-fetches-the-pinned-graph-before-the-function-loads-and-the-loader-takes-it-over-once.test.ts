import t from 'tap'
import { DEFAULT_SESSION_SETTINGS } from '../src/inference/classifier.js'
import { dropEarlyRead, earlyReadPlan, startEarlyRead, takeEarlyRead } from '../src/inference/early-read.js'
import { loadModel, type LoaderSettings } from '../src/inference/model-loader.js'
import { optimizedGraphKey, runtimeSignature } from '../src/inference/optimized-graph.js'
import { pinToEnvironment } from '../src/contract/pin.js'
import { createS3Client } from '../src/aws/s3-client.js'
import { createTestBucket, S3_CREDENTIALS, S3_ENDPOINT, S3_ENV, S3_SETTINGS, testS3Client } from './helpers/s3.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { pinOf, uploadTinyModel } from './helpers/models.js'

const s3 = testS3Client()
const settings: LoaderSettings = {
  session: DEFAULT_SESSION_SETTINGS, read: { partBytes: 1 << 20, concurrency: 2 }, fallbackSize: 224, prefault: false, optimizedGraph: 'readwrite', readThread: 'worker',
}
const signature = runtimeSignature('all')
const pinEnv = { MODEL_BUCKET: 'b', MODEL_WEIGHTS_KEY: 'm/w.onnx', MODEL_WEIGHTS_VERSION_ID: 'v1', MODEL_LABELS_KEY: 'm/l.txt', MODEL_LABELS_VERSION_ID: 'v2' }

t.test('the plan: the graph of the pinned weights when graphs are on, the weights when off, nothing it cannot decide', async (t) => {
  t.same(earlyReadPlan({ ...pinEnv, AWS_ENDPOINT_URL_S3: 'http://gw' }), {
    bucket: 'b', key: optimizedGraphKey({ weightsKey: 'm/w.onnx', weightsVersionId: 'v1' }, signature), versionId: undefined, partBytes: 2 ** 31 - 1, concurrency: 1,
  }, 'a gateway: one GET of the graph')
  t.same(earlyReadPlan({ ...pinEnv, MODEL_OPTIMIZED_GRAPH: 'off' }), { bucket: 'b', key: 'm/w.onnx', versionId: 'v1', partBytes: 8 << 20, concurrency: 8 }, 'AWS: 8 ranged GETs of the weights')
  t.same(earlyReadPlan({ ...pinEnv, MODEL_GRAPH_OPTIMIZATION: 'basic' }), { bucket: 'b', key: optimizedGraphKey({ weightsKey: 'm/w.onnx', weightsVersionId: 'v1' }, runtimeSignature('basic')), versionId: undefined, partBytes: 8 << 20, concurrency: 8 })
  t.same(earlyReadPlan({ ...pinEnv, MODEL_DOWNLOAD_PART_BYTES: '1048576', MODEL_DOWNLOAD_CONCURRENCY: '3', MODEL_OPTIMIZED_GRAPH: 'off' }), { bucket: 'b', key: 'm/w.onnx', versionId: 'v1', partBytes: 1 << 20, concurrency: 3 })
  t.same(earlyReadPlan({ ...pinEnv, MODEL_LABELS_VERSION_ID: '' }), { none: 'no pinned model in the configuration' })
  t.same(earlyReadPlan({ ...pinEnv, MODEL_DOWNLOAD_THREAD: 'main' }), { none: 'MODEL_DOWNLOAD_THREAD is not worker' })
  t.same(earlyReadPlan({ ...pinEnv, MODEL_OPTIMIZED_GRAPH: 'sometimes' }), { none: 'MODEL_OPTIMIZED_GRAPH is sometimes' })
  t.same(earlyReadPlan({ ...pinEnv, MODEL_DOWNLOAD_PART_BYTES: 'lots' }), { none: 'the download settings are not valid' })
  t.equal(startEarlyRead({ ...pinEnv, AWS_ACCESS_KEY_ID: '' }), 'no credentials in the environment')
  t.equal(takeEarlyRead({ bucket: 'b', key: 'm/w.onnx', versionId: 'v1' }), undefined, 'nothing started, nothing to take')
})

t.test('the loader takes the early read over instead of reading again, and only for the object it names', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 2, 1)
  const first = await loadModel(s3, pin, settings)
  await first.classifier.release()
  t.equal(first.graph.source, 'weights', 'the first load wrote the graph')

  const proxied = await startFaultProxy(t, S3_ENDPOINT, { keepHost: true })
  const viaProxy = createS3Client({ ...S3_SETTINGS, endpoint: proxied.url }, S3_CREDENTIALS)
  t.teardown(() => viaProxy.destroy())
  const env = { ...S3_ENV, AWS_ENDPOINT_URL_S3: proxied.url, ...pinToEnvironment(pin) }
  t.match(startEarlyRead(env), /^reading s3:\/\/.*\.ort$/)
  t.equal(takeEarlyRead({ bucket, key: pin.weightsKey, versionId: pin.weightsVersionId }), undefined, 'not for another object')
  const loaded = await loadModel(viaProxy, pin, settings)
  t.teardown(() => loaded.classifier.release())
  t.equal(loaded.graph.source, 'optimized-graph')
  t.equal(loaded.weightsSha256, model.sha256.weights[1])
  const graphPath = new RegExp(`/${optimizedGraphKey(pin, signature).split('/').map(encodeURIComponent).join('/').replace(/\./g, '\\.')}\\?`)
  t.equal(proxied.count('GET', graphPath), 1, 'the graph was read once, by the early read')
  t.equal(takeEarlyRead({ bucket, key: optimizedGraphKey(pin, signature) }), undefined, 'and taken once')
})

t.test('an early read of a graph that is not there leaves the load to the weights, which write it', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 1, 2)
  // the gateway named by the general AWS_ENDPOINT_URL, as the S3 client reads it: the 404 is radosgw's
  startEarlyRead({ ...S3_ENV, AWS_ENDPOINT_URL_S3: '', AWS_ENDPOINT_URL: S3_ENDPOINT, ...pinToEnvironment(pin) })
  const loaded = await loadModel(s3, pin, settings)
  t.teardown(() => loaded.classifier.release())
  t.equal(loaded.graph.source, 'weights')
  t.match(loaded.graph.note, /no usable optimised graph .* does not exist/)
  t.match(loaded.graph.note, /wrote s3:/)
})

t.test('a read nobody takes is stopped and dropped', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 1, 1)
  startEarlyRead({ ...S3_ENV, ...pinToEnvironment(pin), MODEL_OPTIMIZED_GRAPH: 'off' })
  t.equal(dropEarlyRead(), true)
  t.equal(dropEarlyRead(), false)
  t.equal(takeEarlyRead({ bucket, key: pin.weightsKey, versionId: pin.weightsVersionId }), undefined)
})
