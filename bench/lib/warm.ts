/**
 * The warm measurement of bench/inference.ts, in a process of its own so that it runs with the function's
 * environment (GLIBC_TUNABLES is read by glibc at process start): the handler, configured from this environment
 * exactly as lambda/index.ts configures it, against a bare `session.run` of the same weights with the same session
 * options, interleaved. Prints one JSON line of samples.
 *
 * The floor: what any handler of this model does at the least, measured the same way: the bare run, then the image
 * fetched with one plain HTTP GET of a URL signed beforehand (no signing, no SDK) and sharp's crop, resize and raw
 * output of it (no header read, no conversion to a tensor), right after the run as in a request, so under the same
 * cold caches.
 *
 *   BENCH_WARM=<json> <function env> node --import tsx bench/lib/warm.ts
 */
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import ort from 'onnxruntime-node'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { readConfig } from '../../lambda/config.js'
import { createHandler, functionS3Client, loaderSettings, type Classification } from '../../lambda/handler.js'
import { sessionOptions } from '../../src/inference/classifier.js'
import { ModelCache } from '../../src/inference/model-cache.js'
import { loadModel } from '../../src/inference/model-loader.js'
import { loadSharp, preprocessImage } from '../../src/inference/preprocess.js'

interface WarmJob { pairs: number, image: { bucket: string, key: string, versionId: string }, photoFile: string }

async function main (): Promise<void> {
  const job = JSON.parse(process.env.BENCH_WARM ?? '{}') as WarmJob
  const config = readConfig(process.env)
  const s3 = functionS3Client(process.env)
  // The cache the handler would make for itself, passed in so that the bare runs use the very same session:
  // two sessions of one model can differ by several per cent, which would be noise in the ratio.
  const cache = new ModelCache<Logger>({ maxBytes: config.cacheMaxBytes, load: async (pin) => await loadModel(s3, pin, loaderSettings(config)) })
  // Logs are serialised as in production and thrown away rather than printed.
  const handler = createHandler(config, { s3, cache, logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true })) })
  const event = { image: job.image }
  const context = { awsRequestId: 'bench' }
  const first = await handler(event, context) as Classification

  const lease = await cache.acquire(config.pin!)
  const bare = lease.model.classifier.session
  const feeds = { [bare.inputNames[0]!]: new ort.Tensor('float32', await preprocessImage(await readFile(job.photoFile)), [1, 3, 224, 224]) }
  for (let i = 0; i < 5; i++) { await handler(event, context); await bare.run(feeds) }

  // The floor's parts: a URL signed once, a plain keep-alive agent, and the crop the handler computes for this photo.
  const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: job.image.bucket, Key: job.image.key, VersionId: job.image.versionId }), { expiresIn: 3600 })
  const agent = new http.Agent({ keepAlive: true })
  const sharp = await loadSharp()
  const photo = await sharp(await readFile(job.photoFile)).metadata()
  const side = Math.round(Math.min(photo.width, photo.height) * 224 / 256)
  const region = { left: Math.floor((photo.width - side) / 2), top: Math.floor((photo.height - side) / 2), width: side, height: side }
  const rawGet = async (): Promise<Buffer> => await new Promise((resolve, reject) => {
    http.get(url, { agent }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('end', () => resolve(Buffer.concat(chunks)))
      response.once('error', reject)
    }).once('error', reject)
  })
  const rawPipeline = async (bytes: Buffer): Promise<Buffer> =>
    await sharp(bytes).extract(region).resize(224, 224, { fit: 'fill', kernel: 'linear' }).raw().toBuffer()
  for (let i = 0; i < 5; i++) await rawPipeline(await rawGet())

  const samples = {
    handler: [] as number[],
    bare: [] as number[],
    floor: [] as number[],
    // the floor's image GET and sharp pipeline
    floorGetMs: [] as number[],
    floorSharpMs: [] as number[],
    imageMs: [] as number[],
    preprocessMs: [] as number[],
    inferenceMs: [] as number[],
    // per call: the handler's time that none of its own timings covers
    unaccountedMs: [] as number[],
  }
  const timeHandler = async (): Promise<void> => {
    const started = performance.now()
    const out = await handler(event, context) as Classification
    const ms = performance.now() - started
    samples.handler.push(ms)
    samples.unaccountedMs.push(ms - out.timings.imageMs - out.timings.preprocessMs - out.timings.inferenceMs)
    samples.imageMs.push(out.timings.imageMs)
    samples.preprocessMs.push(out.timings.preprocessMs)
    samples.inferenceMs.push(out.timings.inferenceMs)
  }
  const timeBare = async (): Promise<void> => {
    const started = performance.now()
    await bare.run(feeds)
    samples.bare.push(performance.now() - started)
  }
  const timeFloor = async (): Promise<void> => {
    const started = performance.now()
    await bare.run(feeds)
    const ran = performance.now()
    const bytes = await rawGet()
    const got = performance.now()
    await rawPipeline(bytes)
    const ended = performance.now()
    samples.floor.push(ended - started)
    samples.floorGetMs.push(got - ran)
    samples.floorSharpMs.push(ended - got)
  }
  // Rotating which goes first, so that drifting load on the machine falls on each alike.
  const order = [timeHandler, timeBare, timeFloor]
  for (let i = 0; i < job.pairs; i++) {
    for (let j = 0; j < order.length; j++) await order[(i + j) % order.length]!()
  }
  agent.destroy()
  lease.release()
  console.log(JSON.stringify({ firstLabel: first.predictions[0]!.label, options: sessionOptions(config.session), prefault: config.prefault, samples }))
  s3.destroy()
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
