import t, { type Test } from 'tap'
import { GetObjectCommand, HeadObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { loadModel, type LoaderSettings, type LoadedModel } from '../src/inference/model-loader.js'
import {
  GRAPH_METADATA, OPTIMIZED_GRAPH_PREFIX, checkGraphMetadata, optimizedGraphKey, runtimeSignature,
} from '../src/inference/optimized-graph.js'
import { DEFAULT_SESSION_SETTINGS } from '../src/inference/classifier.js'
import { preprocessImage } from '../src/inference/preprocess.js'
import { scores, topK } from '../src/inference/top-k.js'
import type { ModelPin } from '../src/contract/pin.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'
import { colourPhoto } from './helpers/images.js'
import { demoLabels, expectedLabel, pinOf, sha256, uploadTinyModel } from './helpers/models.js'

const s3 = testS3Client()
const settings = (optimizedGraph: LoaderSettings['optimizedGraph'], readThread: LoaderSettings['readThread'] = 'worker'): LoaderSettings => ({
  session: DEFAULT_SESSION_SETTINGS, read: { partBytes: 1 << 20, concurrency: 2 }, fallbackSize: 224, prefault: false, optimizedGraph, readThread,
})
const signature = runtimeSignature(DEFAULT_SESSION_SETTINGS.graphOptimizationLevel)

async function load (t: Test, pin: ModelPin, mode: LoaderSettings['optimizedGraph'] = 'readwrite', thread: LoaderSettings['readThread'] = 'worker'): Promise<LoadedModel> {
  const loaded = await loadModel(s3, pin, settings(mode, thread))
  t.teardown(() => loaded.classifier.release())
  return loaded
}

async function redScores (loaded: LoadedModel): Promise<Float32Array> {
  return await loaded.classifier.run(await preprocessImage(await colourPhoto('red')), 224)
}

async function graphObject (pin: ModelPin): Promise<{ bytes: Buffer, metadata: Record<string, string> } | undefined> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: pin.bucket, Key: optimizedGraphKey(pin, signature) }))
    return { bytes: Buffer.from(await got.Body!.transformToByteArray()), metadata: got.Metadata ?? {} }
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined
    throw error
  }
}

async function putGraph (pin: ModelPin, bytes: Buffer, metadata: Record<string, string>): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: pin.bucket, Key: optimizedGraphKey(pin, signature), Body: bytes, Metadata: metadata }))
}

t.test('the first load writes the graph beside the weights, keyed and described; the next one uses it and answers the same', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 2, 1)
  const key = optimizedGraphKey(pin, signature)
  t.ok(key.startsWith(`${OPTIMIZED_GRAPH_PREFIX}${pin.weightsKey}/${pin.weightsVersionId}/ort-`), key)
  t.match(key, new RegExp(`-${process.arch}-[0-9a-f]{16}-all\\.ort$`))

  const first = await load(t, pin)
  t.equal(first.graph.source, 'weights')
  t.match(first.graph.note, /no usable optimised graph .*NoSuchKey|does not exist/)
  t.match(first.graph.note, `wrote s3://${bucket}/${key}`)
  t.type(first.timings.writeMs, 'number')
  const written = await graphObject(pin)
  if (written === undefined) throw new Error('no graph was written')
  t.same(written.metadata, {
    [GRAPH_METADATA.sha256]: sha256(written.bytes),
    [GRAPH_METADATA.weightsSha256]: model.sha256.weights[1],
    [GRAPH_METADATA.weightsVersionId]: pin.weightsVersionId,
    [GRAPH_METADATA.ortVersion]: signature.ortVersion,
    [GRAPH_METADATA.cpu]: signature.cpu,
    [GRAPH_METADATA.level]: 'all',
  })
  // ORT format: a FlatBuffer whose file identifier is "ORTM" at byte 4
  t.equal(written.bytes.subarray(4, 8).toString('latin1'), 'ORTM')

  const second = await load(t, pin)
  t.equal(second.graph.source, 'optimized-graph')
  t.equal(second.graph.note, undefined)
  t.equal(second.weightsSha256, model.sha256.weights[1], 'the weights digest is the one the graph was made from')
  t.equal(second.bytes, written.bytes.byteLength + demoLabels(1).byteLength, 'the cache counts the graph held in place of the weights')
  t.equal(second.classifier.classCount, 1000)
  const [a, b] = [await redScores(first), await redScores(second)]
  t.equal(topK(scores(b), second.labels, 1)[0]!.label, expectedLabel(2, 1, 'red'))
  t.ok(a.every((value, i) => Math.abs(value - b[i]!) < 1e-4), 'the graph gives the scores of the weights')
  t.equal(await graphObject(pin).then((g) => g?.bytes.byteLength), written.bytes.byteLength, 'nothing is rewritten when the graph is used')
  // read on the main thread instead of a worker: the same graph, checked the same way
  const onMain = await load(t, pin, 'readwrite', 'main')
  t.equal(onMain.graph.source, 'optimized-graph')
  t.equal(onMain.weightsSha256, model.sha256.weights[1])
})

t.test('a graph whose bytes do not match its digest, made from other weights, or refused by ONNX Runtime is not used, and the load rewrites it', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 1, 1)
  await load(t, pin)
  const good = await graphObject(pin)
  if (good === undefined) throw new Error('no graph was written')

  const cases: Array<[string, Buffer, Record<string, string>, RegExp]> = [
    ['flipped byte', Buffer.from(good.bytes).fill(0, 1000, 1001), good.metadata, /has sha256 [0-9a-f]{64}, but its metadata says/],
    ['other weights', good.bytes, { ...good.metadata, [GRAPH_METADATA.weightsSha256]: 'f'.repeat(64) }, /modelpin-weights-sha256 is "f{64}"/],
    ['other CPU', good.bytes, { ...good.metadata, [GRAPH_METADATA.cpu]: '0123456789abcdef' }, /modelpin-cpu is "0123456789abcdef"/],
    ['other runtime', good.bytes, { ...good.metadata, [GRAPH_METADATA.ortVersion]: '0.0.1' }, /modelpin-ort-version is "0.0.1"/],
    ['not a graph', Buffer.from('not an ORT model'), { ...good.metadata, [GRAPH_METADATA.sha256]: sha256(Buffer.from('not an ORT model')) }, /ONNX Runtime refused the optimised graph/],
  ]
  for (const [name, bytes, metadata, why] of cases) {
    await putGraph(pin, bytes, metadata)
    const loaded = await load(t, pin)
    t.equal(loaded.graph.source, 'weights', `${name}: loaded from the weights`)
    t.match(loaded.graph.note, why, `${name}: the note says why`)
    t.match(loaded.graph.note, /wrote s3:/, `${name}: a fresh graph was written`)
    t.equal(topK(scores(await redScores(loaded)), loaded.labels, 1)[0]!.label, expectedLabel(1, 1, 'red'))
    const rewritten = await graphObject(pin)
    if (rewritten === undefined) throw new Error(`${name}: the graph is gone`)
    // ONNX Runtime does not save the same bytes twice, so the digest is the new bytes' own
    t.same(rewritten.metadata, { ...good.metadata, [GRAPH_METADATA.sha256]: sha256(rewritten.bytes) }, `${name}: the rewritten graph is described as the first`)
    t.equal((await load(t, pin)).graph.source, 'optimized-graph', `${name}: and the next load uses it`)
  }
})

t.test('a pin with a wrong weights digest is refused even where a valid graph of those weights exists', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 1, 2)
  await load(t, pin)
  t.ok(await graphObject(pin), 'a graph exists')
  await t.rejects(loadModel(s3, { ...pin, weightsSha256: 'e'.repeat(64) }, settings('readwrite')), { name: 'ChecksumMismatchError' })
})

t.test('read only uses a graph but never writes one; off reads only the weights', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const pin = pinOf(model, 2, 2)
  const readOnly = await load(t, pin, 'read')
  t.equal(readOnly.graph.source, 'weights')
  t.notMatch(readOnly.graph.note, /wrote/)
  t.equal(await graphObject(pin), undefined, 'read never writes')

  await load(t, pin, 'readwrite')
  t.equal((await load(t, pin, 'read')).graph.source, 'optimized-graph', 'read uses what readwrite wrote')
  const off = await load(t, pin, 'off')
  t.same(off.graph, { source: 'weights', key: undefined, note: undefined })
  t.equal(off.timings.graphMs, undefined)
})

t.test('a graph that cannot be written leaves the model loaded and says why', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  await s3.send(new PutBucketPolicyCommand({
    Bucket: bucket,
    Policy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/${OPTIMIZED_GRAPH_PREFIX}*` }],
    }),
  }))
  const pin = pinOf(model, 1, 1)
  const loaded = await load(t, pin)
  t.equal(loaded.graph.source, 'weights')
  t.match(loaded.graph.note, /writing the optimised graph failed: .*(AccessDenied|HTTP 403)/)
  t.equal(topK(scores(await redScores(loaded)), loaded.labels, 1)[0]!.label, expectedLabel(1, 1, 'red'))
  await t.rejects(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: optimizedGraphKey(pin, signature) })), { name: 'NotFound' }, 'nothing was written')
})

t.test('the metadata check names what differs, before any byte is read', async (t) => {
  const pin = { bucket: 'b', weightsKey: 'w', weightsVersionId: 'v1', labelsKey: 'l', labelsVersionId: 'v2', weightsSha256: 'a'.repeat(64) }
  const metadata = {
    [GRAPH_METADATA.sha256]: 'b'.repeat(64),
    [GRAPH_METADATA.weightsSha256]: 'a'.repeat(64),
    [GRAPH_METADATA.weightsVersionId]: 'v1',
    [GRAPH_METADATA.ortVersion]: signature.ortVersion,
    [GRAPH_METADATA.cpu]: signature.cpu,
    [GRAPH_METADATA.level]: 'all',
  }
  t.equal(checkGraphMetadata(metadata, pin, signature), 'b'.repeat(64))
  t.throws(() => checkGraphMetadata({ ...metadata, [GRAPH_METADATA.weightsVersionId]: 'v0' }, pin, signature), /modelpin-weights-version-id is "v0", not "v1"/)
  t.throws(() => checkGraphMetadata({ ...metadata, [GRAPH_METADATA.level]: 'basic' }, pin, signature), /modelpin-graph-optimization is "basic"/)
  t.throws(() => checkGraphMetadata({ ...metadata, [GRAPH_METADATA.sha256]: 'nope' }, pin, signature), /no valid modelpin-sha256/)
  const { [GRAPH_METADATA.weightsSha256]: _, ...withoutWeights } = metadata
  t.throws(() => checkGraphMetadata(withoutWeights, { ...pin, weightsSha256: undefined }, signature), /no valid modelpin-weights-sha256/)
  t.throws(() => checkGraphMetadata({}, pin, signature), /is null/)
})
