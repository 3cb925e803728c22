/**
 * The naive inference function, built only for bench/local-runtime.ts (`cold_start_ratio_vs_naive`): the original
 * pipeline's way of loading a model on the first request. GetObject of the pinned weights streamed to a file in
 * /tmp, the file read back, its sha256 checked, the session created, then the labels fetched, checked and parsed.
 * The image part (read from S3, preprocessing, run, top-k) is the product's own code, so that the two handlers
 * differ only in how they get to a loaded model. Same configuration variables and session options as the product.
 *
 * It answers a direct event `{ image: { bucket, key, versionId? } }` with `{ predictions, environment, cache }` in
 * the shape the benchmark reads; nothing else.
 */
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import ort from 'onnxruntime-node'
import { readConfig } from '../../lambda/config.js'
import { createS3Client, s3SettingsFromEnv } from '../../src/aws/s3-client.js'
import { sessionOptions } from '../../src/inference/classifier.js'
import { parseLabels } from '../../src/inference/labels.js'
import { MAX_IMAGE_BYTES, preprocessImage } from '../../src/inference/preprocess.js'
import { readObject } from '../../src/inference/s3-objects.js'
import { scores, topK } from '../../src/inference/top-k.js'

const config = readConfig(process.env)
const s3 = createS3Client(s3SettingsFromEnv(process.env))
const environmentId = randomUUID()
let invocations = 0
let model: { session: ort.InferenceSession, labels: string[], loadMs: number } | undefined

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

async function load (): Promise<NonNullable<typeof model>> {
  const pin = config.pin
  if (pin === undefined) throw new Error('the naive handler needs MODEL_WEIGHTS_VERSION_ID and MODEL_LABELS_VERSION_ID')
  const started = performance.now()
  const file = join(tmpdir(), `modelpin-naive-${environmentId}.onnx`)
  try {
    const weights = await s3.send(new GetObjectCommand({ Bucket: pin.bucket, Key: pin.weightsKey, VersionId: pin.weightsVersionId }))
    await pipeline(weights.Body as Readable, createWriteStream(file))
    const bytes = await readFile(file)
    if (pin.weightsSha256 !== undefined && sha256(bytes) !== pin.weightsSha256) throw new Error('weights digest mismatch')
    const session = await ort.InferenceSession.create(bytes, sessionOptions(config.session))
    const labelsObject = await s3.send(new GetObjectCommand({ Bucket: pin.bucket, Key: pin.labelsKey, VersionId: pin.labelsVersionId }))
    const labelBytes = Buffer.from(await labelsObject.Body!.transformToByteArray())
    if (pin.labelsSha256 !== undefined && sha256(labelBytes) !== pin.labelsSha256) throw new Error('labels digest mismatch')
    const output = session.outputMetadata[0]
    const labels = parseLabels(labelBytes.toString('utf8'), output?.isTensor === true ? output.shape.at(-1) as number : undefined)
    return { session, labels, loadMs: performance.now() - started }
  } finally {
    await rm(file, { force: true })
  }
}

export async function handler (event: { image: { bucket: string, key: string, versionId?: string } }): Promise<unknown> {
  invocations++
  const started = performance.now()
  model ??= await load()
  const modelMs = performance.now() - started
  const image = await readObject(s3, event.image, MAX_IMAGE_BYTES)
  const size = config.image.size
  const input = await preprocessImage(image.bytes, { size, resize: config.image.resize ?? Math.round(size * 256 / 224), mean: config.image.mean, std: config.image.std })
  const inputName = model.session.inputNames[0]!
  const outputName = model.session.outputNames[0]!
  const out = await model.session.run({ [inputName]: new ort.Tensor('float32', input, [1, 3, size, size]) })
  const predictions = topK(scores(out[outputName]!.data as Float32Array), model.labels, 5)
  return {
    predictions,
    timings: { totalMs: performance.now() - started, modelMs },
    cache: { hits: invocations - 1, misses: 1, loads: 1, bytes: 0 },
    environment: { id: environmentId, coldStart: invocations === 1 },
  }
}
