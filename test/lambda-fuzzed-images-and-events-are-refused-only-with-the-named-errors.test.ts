import { PutObjectCommand } from '@aws-sdk/client-s3'
import fc from 'fast-check'
import t from 'tap'
import * as inferenceErrors from '../src/inference/errors.js'
import { MAX_IMAGE_BYTES, MAX_INPUT_PIXELS } from '../src/inference/preprocess.js'
import { jpegClaiming, pngBomb } from './helpers/hostile-images.js'
import * as images from './helpers/images.js'
import { handlerTestbed } from './helpers/models.js'
import { testS3Client } from './helpers/s3.js'

/**
 * Property-based fuzzing of the function's handler, in process, over the real S3 (radosgw) and the tiny model:
 * hostile images (truncated, bit-flipped, oversized, decompression bombs) and malformed events. Whatever comes in,
 * the handler answers or throws one of the named InferenceErrors, never anything else (a TypeError, sharp's or the
 * SDK's own error). Seeded: a failure prints the seed and path that replay it (MODELPIN_FUZZ_SEED=<seed>).
 */
const SEED = Number(process.env.MODELPIN_FUZZ_SEED ?? 20261203)
const IMAGE_RUNS = Number(process.env.MODELPIN_FUZZ_IMAGE_RUNS ?? 600)
const EVENT_RUNS = Number(process.env.MODELPIN_FUZZ_EVENT_RUNS ?? 900)

/** The names a refusal may carry: every InferenceError subclass the function exports. */
const NAMED = new Set(Object.values(inferenceErrors)
  .filter((value): value is typeof inferenceErrors.InvalidImageError => typeof value === 'function' && value.prototype instanceof inferenceErrors.InferenceError)
  .map((value) => value.name))

const s3 = testS3Client()
t.teardown(() => { s3.destroy() })
let request = 0
const context = (): { awsRequestId: string } => ({ awsRequestId: `fuzz-${++request}` })

t.test('hostile images and malformed events get an answer or a named error, nothing else', async (t) => {
  const { inputs, handler, model } = await handlerTestbed(t, s3, [1, 1])
  const put = async (key: string, body: Buffer): Promise<string> =>
    (await s3.send(new PutObjectCommand({ Bucket: inputs, Key: key, Body: body }))).VersionId!
  const sources = [
    images.benchmarkPhoto(),
    images.cmykJpeg(),
    images.exifRotatedJpeg(),
    await images.pngWithAlpha('red', 64, 48),
    await images.colourPhoto('green', 96, 64),
  ]
  const storedKey = 'stored.jpg'
  const storedVersion = await put(storedKey, sources[0]!)
  const outcomes = { answered: 0, refused: new Map<string, number>() }

  /** Runs one event; fails the property on anything but an answer or a named refusal. */
  const invoke = async (event: unknown): Promise<void> => {
    try {
      await handler(event, context())
      outcomes.answered++
    } catch (error) {
      const name = (error as Error | null)?.name
      if (!(error instanceof inferenceErrors.InferenceError) || name === undefined || !NAMED.has(name)) {
        throw new Error(`not a named error: ${String(name)}: ${(error as Error | null)?.message ?? String(error)}`, { cause: error })
      }
      outcomes.refused.set(name, (outcomes.refused.get(name) ?? 0) + 1)
    }
  }

  const source = fc.constantFrom(...sources)
  const hostileImage = fc.oneof(
    // truncated anywhere
    fc.tuple(source, fc.double({ min: 0, max: 1, noNaN: true })).map(([bytes, cut]) => bytes.subarray(0, Math.floor(bytes.length * cut))),
    // a few bits flipped anywhere (headers included)
    fc.tuple(source, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 1, maxLength: 16 })).map(([bytes, flips]) => {
      const copy = Buffer.from(bytes)
      for (const [at, bit] of flips) copy[at % copy.length]! ^= 1 << bit
      return copy
    }),
    // headers that claim more pixels than the limit (or absurd sizes), with next to no data
    fc.tuple(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([w, h]) => pngBomb(w, h, 0)),
    // (a claim under the limit makes libjpeg decode megapixels of garbage, about a second each: kept to 4000 x 4000)
    fc.tuple(fc.oneof(fc.integer({ min: 7100, max: 65535 }), fc.integer({ min: 0, max: 4000 })), fc.integer({ min: 7100, max: 65535 }), fc.boolean(), source)
      .map(([a, b, swap, bytes]) => swap ? jpegClaiming(bytes, b, a) : jpegClaiming(bytes, a, b)),
    fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 4000 }), source).map(([w, h, bytes]) => jpegClaiming(bytes, w, h)),
    // decompression bombs: a few kilobytes inflating to megabytes, under and over the pixel limit
    fc.tuple(fc.integer({ min: 1000, max: 4000 }), fc.integer({ min: 1000, max: 4000 })).map(([w, h]) => pngBomb(w, h)),
    // random bytes, and bytes that start like an image
    fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
    fc.tuple(fc.constantFrom(Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.from('GIF89a'), Buffer.from('RIFF\0\0\0\0WEBP')), fc.uint8Array({ maxLength: 512 }))
      .map(([magic, rest]) => Buffer.concat([magic, rest]))
  )

  const started = performance.now()
  // the image is generated inside the property, so its time counts too (a bomb is made by deflating megabytes)
  let slowest = { ms: 0, size: 0 }
  await fc.assert(fc.asyncProperty(hostileImage, async (bytes) => {
    const began = performance.now()
    await invoke({ image: { base64: bytes.toString('base64') } })
    const ms = performance.now() - began
    if (ms > slowest.ms) slowest = { ms, size: bytes.length }
  }), { seed: SEED, numRuns: IMAGE_RUNS })
  t.comment(`${IMAGE_RUNS} images in ${(performance.now() - started).toFixed(0)} ms; slowest ${slowest.ms.toFixed(0)} ms (${slowest.size} bytes)`)

  // over the byte limit: checked before any decoding (one case: 32 MiB of base64 is slow to build)
  await invoke({ image: { base64: Buffer.alloc(MAX_IMAGE_BYTES + 1).toString('base64') } })
  t.equal(outcomes.refused.get('ImageTooLargeError') !== undefined, true, 'oversized images are refused as too large')

  // a decompression bomb under the pixel limit decodes within bounds; over it, it is refused from its header
  await invoke({ image: { base64: pngBomb(7000, 7000).toString('base64') } })
  const overLimit = Math.ceil(Math.sqrt(MAX_INPUT_PIXELS)) + 1
  await t.rejects(handler({ image: { base64: pngBomb(overLimit, overLimit).toString('base64') } }, context()), { name: 'ImageTooLargeError' })

  const anyJson = fc.jsonValue({ maxDepth: 3 })
  const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom(inputs, storedKey, '', '..', 'a/../b', '\u0000', 'x'.repeat(2000)))
  const malformedEvent = fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.record({ image: anyJson }),
    fc.record({ image: fc.record({ base64: fc.oneof(fc.string({ maxLength: 200 }), anyJson) }) }),
    fc.record({ image: fc.record({ bucket: text, key: text, versionId: fc.option(fc.oneof(text, fc.constant(storedVersion), anyJson)) }, { requiredKeys: [] }) }),
    fc.record({
      image: fc.constant({ bucket: inputs, key: storedKey, versionId: storedVersion }),
      topK: fc.option(anyJson),
      model: fc.option(fc.oneof(anyJson, fc.record({
        weightsVersionId: fc.oneof(text, fc.constant(model.weights[0])),
        labelsVersionId: fc.oneof(text, fc.constant(model.labels[0])),
        weightsSha256: fc.option(fc.oneof(text, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }))),
        labelsSha256: fc.option(fc.oneof(text, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }))),
      }, { requiredKeys: [] }))),
    }, { requiredKeys: ['image'] }),
    fc.record({ Records: fc.oneof(anyJson, fc.array(fc.oneof(anyJson, fc.record({ eventSource: fc.oneof(fc.constant('aws:s3'), text), s3: anyJson })), { maxLength: 3 })) }),
    fc.record({
      Records: fc.array(fc.record({
        eventSource: fc.constant('aws:s3'),
        eventName: fc.oneof(fc.constant('ObjectCreated:Put'), text),
        s3: fc.record({
          bucket: fc.record({ name: fc.oneof(fc.constant(inputs), text) }),
          object: fc.record({ key: fc.oneof(fc.constant(storedKey), text), versionId: fc.option(fc.oneof(fc.constant(storedVersion), text)), size: fc.option(anyJson) }, { requiredKeys: ['key'] }),
        }),
      }), { minLength: 1, maxLength: 2 }),
    }),
    fc.record({ warmup: anyJson }),
    fc.record({ source: fc.oneof(fc.constant('aws.events'), text), 'detail-type': fc.oneof(fc.constant('Scheduled Event'), text) })
  )
  const eventsStarted = performance.now()
  await fc.assert(fc.asyncProperty(malformedEvent, async (event) => { await invoke(event) }), { seed: SEED, numRuns: EVENT_RUNS })
  t.comment(`${EVENT_RUNS} events in ${(performance.now() - eventsStarted).toFixed(0)} ms`)

  t.pass(`${IMAGE_RUNS + EVENT_RUNS + 2} generated cases: ${outcomes.answered} answered, refused ${JSON.stringify(Object.fromEntries(outcomes.refused))}`)
  t.ok(outcomes.refused.size >= 5, 'the cases reach many kinds of refusal')
})
