/**
 * One cold model load in a fresh process, for bench/inference.ts: `product` (src/inference's loadModel),
 * `naive` (one GetObject to a temporary file, read it, verify, create the session, then fetch and verify the
 * labels) or `floor` (radosgw's own part: one GetObject of the weights, body counted and dropped, no hash, no
 * session). Both use the same session options and the same S3 client settings; the clock starts after the imports
 * and the S3 client exist, as they would at a Lambda's module scope. Prints one JSON line.
 *
 *   BENCH_LOAD=<json> node --import tsx bench/lib/cold-load.ts product|naive|floor
 */
import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import ort from 'onnxruntime-node'
import { createS3Client, s3SettingsFromEnv } from '../../src/aws/s3-client.js'
import { sessionOptions, type SessionSettings } from '../../src/inference/classifier.js'
import { parseLabels } from '../../src/inference/labels.js'
import { allocatorRetainsMemory } from '../../src/inference/memory-prefault.js'
import { loadModel, type LoaderSettings } from '../../src/inference/model-loader.js'
import type { ModelPin } from '../../src/contract/pin.js'

interface LoadJob { pin: Required<ModelPin>, settings: LoaderSettings }

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

async function naive (s3: ReturnType<typeof createS3Client>, pin: Required<ModelPin>, session: SessionSettings): Promise<Record<string, number>> {
  const started = performance.now()
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-naive-'))
  try {
    const file = join(dir, 'model.onnx')
    const weights = await s3.send(new GetObjectCommand({ Bucket: pin.bucket, Key: pin.weightsKey, VersionId: pin.weightsVersionId }))
    await pipeline(weights.Body as Readable, createWriteStream(file))
    const downloaded = performance.now()
    const bytes = await readFile(file)
    if (sha256(bytes) !== pin.weightsSha256) throw new Error('weights digest mismatch')
    const verified = performance.now()
    const model = await ort.InferenceSession.create(bytes, sessionOptions(session))
    const created = performance.now()
    const labels = await s3.send(new GetObjectCommand({ Bucket: pin.bucket, Key: pin.labelsKey, VersionId: pin.labelsVersionId }))
    const labelBytes = Buffer.from(await labels.Body!.transformToByteArray())
    if (sha256(labelBytes) !== pin.labelsSha256) throw new Error('labels digest mismatch')
    const output = model.outputMetadata[0]
    parseLabels(labelBytes.toString('utf8'), output?.isTensor === true ? output.shape.at(-1) as number : undefined)
    const totalMs = performance.now() - started
    await model.release()
    return { totalMs, downloadMs: downloaded - started, readAndHashMs: verified - downloaded, sessionMs: created - verified }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function floor (s3: ReturnType<typeof createS3Client>, pin: Required<ModelPin>): Promise<Record<string, number>> {
  const started = performance.now()
  const weights = await s3.send(new GetObjectCommand({ Bucket: pin.bucket, Key: pin.weightsKey, VersionId: pin.weightsVersionId }))
  const body = weights.Body as Readable
  let bytes = 0
  // 'data' events, as the loader reads (an async iterator's promise per chunk would make the floor slower)
  await new Promise<void>((resolve, reject) => {
    body.on('data', (chunk: Buffer) => { bytes += chunk.byteLength })
    body.once('end', resolve)
    body.once('error', reject)
  })
  if (bytes !== weights.ContentLength) throw new Error(`read ${bytes} of ${weights.ContentLength} bytes`)
  return { totalMs: performance.now() - started }
}

async function main (): Promise<void> {
  const mode = process.argv[2]
  const job = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadJob
  const s3 = createS3Client(s3SettingsFromEnv(process.env))
  let result: Record<string, number>
  if (mode === 'naive') {
    result = await naive(s3, job.pin, job.settings.session)
  } else if (mode === 'floor') {
    result = await floor(s3, job.pin)
  } else if (mode === 'product') {
    // As the function's configuration decides it (MODEL_PREFAULT=auto), from this process's own environment.
    const model = await loadModel(s3, job.pin, { ...job.settings, prefault: allocatorRetainsMemory(process.env) })
    // 1 when the session came from the derived optimised graph (optimized-graph.ts), 0 from the weights
    result = { ...model.timings, fromGraph: model.graph.source === 'optimized-graph' ? 1 : 0 }
    await model.classifier.release()
  } else {
    throw new Error(`mode must be product, naive or floor, got ${mode}`)
  }
  console.log(JSON.stringify({ mode, ...result }))
  s3.destroy()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
