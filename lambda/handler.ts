import { randomUUID } from 'node:crypto'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { Context } from 'aws-lambda'
import type { Logger } from 'pino'
import { createS3Client, s3SettingsFromEnv } from '../src/aws/s3-client.js'
import { InferenceError, ModelNotPinnedError } from '../src/inference/errors.js'
import { ModelCache, type ModelLease } from '../src/inference/model-cache.js'
import { loadModel, validatePin, type LoaderSettings } from '../src/inference/model-loader.js'
import {
  answerModelOf, type EnvironmentInfo, type InvokeAnswer, type S3NotificationAnswer, type S3RecordError,
  type S3RecordOutcome, type S3RecordOutput, type WarmupAnswer,
} from '../src/contract/invoke.js'
import { DEFAULT_TOP_K } from '../src/contract/limits.js'
import type { ModelPin } from '../src/contract/pin.js'
import { MAX_IMAGE_BYTES, preprocessImage, type PreprocessSpec } from '../src/inference/preprocess.js'
import { describeObject, latestVersionId, readObject } from '../src/inference/s3-objects.js'
import { scores, topK } from '../src/inference/top-k.js'
import type { HandlerConfig } from './config.js'
import { metadataPin, parseEvent, type ImageSource, type RequestPin, type S3ObjectRecord } from './events.js'

/** The answers of the three event kinds, typed by the contract's schemas (`src/contract/invoke.ts`). */
export type FunctionAnswer = InvokeAnswer | WarmupAnswer | S3NotificationAnswer

// The names the tests and benchmarks read answers by.
export type Classification = InvokeAnswer
export type WarmupResult = WarmupAnswer
export type S3EventResult = S3NotificationAnswer
export type RecordOutcome = S3RecordOutcome

/**
 * Lambda may deliver any JSON, so the event is `unknown` until parseEvent has told a direct invocation, an S3Event
 * and a ScheduledEvent (or `{"warmup": true}`) apart. Of Lambda's Context only the request id is read, so it is
 * all a caller (a test, a benchmark) must give.
 */
export type InferenceHandler = (event: unknown, context: Pick<Context, 'awsRequestId'> & Partial<Context>) => Promise<FunctionAnswer>

/** The handler, and what the module's init phase does with it before the first request. */
export type InferenceFunction = InferenceHandler & {
  /**
   * Loads the configuration's pinned model into the cache (none without pins). Never rejects: a failure is logged
   * and the first request that needs the model loads it again and reports the named error.
   */
  preload: () => Promise<void>
}

export interface HandlerDeps {
  s3: S3Client
  logger: Logger
  /** A cache to share (tests); by default one over `loadModel` bounded by MODEL_CACHE_MAX_BYTES. */
  cache?: ModelCache<Logger>
  /** Defaults to a random id: one per handler, and the module makes one handler per process. */
  environmentId?: string
}

/**
 * The function's S3 client, from its environment (credentials from the environment unless given): middleware resolved
 * once per command class (s3-client.ts), since nothing adds any to it.
 */
export function functionS3Client (env: Record<string, string | undefined>, credentials?: { accessKeyId: string, secretAccessKey: string }): S3Client {
  return createS3Client(s3SettingsFromEnv(env), credentials, { cacheMiddleware: true })
}

/** Loader settings from the configuration. */
export function loaderSettings (config: HandlerConfig): LoaderSettings {
  return { session: config.session, read: config.download, fallbackSize: config.image.size, prefault: config.prefault, optimizedGraph: config.optimizedGraph, readThread: config.readThread }
}

/**
 * The inference function: a short dispatch over the three event kinds (the README's "Events and responses").
 * Everything that must survive between warm invocations (S3 client, model cache, environment id) lives in the
 * closure, which the module creates once per process.
 */
export function createHandler (config: HandlerConfig, deps: HandlerDeps): InferenceFunction {
  const { s3 } = deps
  const environmentId = deps.environmentId ?? randomUUID()
  let invocations = 0
  const cache = deps.cache ?? new ModelCache<Logger>({
    maxBytes: config.cacheMaxBytes,
    load: async (pin, log) => {
      const model = await loadModel(s3, pin, loaderSettings(config))
      // `log` (a request's or the init phase's) already names the pin
      ;(log ?? deps.logger.child(pinFields(pin))).info({ bytes: model.bytes, ...model.timings, graph: model.graph }, 'model loaded')
      return model
    },
    onEvict: (model) => deps.logger.info({ ...pinFields(model.pin), bytes: model.bytes }, 'model evicted'),
  })

  /**
   * The event's pin, else the configuration's, else (development only) the latest versions; with the release it
   * belongs to (MODEL_RELEASE, only for the configuration's pin: null otherwise).
   */
  async function resolvePin (requestPin: RequestPin | undefined, source: string): Promise<{ pin: ModelPin, release: number | null }> {
    const location = { bucket: config.bucket, weightsKey: config.weightsKey, labelsKey: config.labelsKey }
    if (requestPin !== undefined) return { pin: validatePin({ ...location, ...requestPin }, source), release: null }
    if (config.pin !== undefined) return { pin: config.pin, release: config.release ?? null }
    if (config.allowLatest) {
      const [weightsVersionId, labelsVersionId] = await Promise.all([
        latestVersionId(s3, { bucket: config.bucket, key: config.weightsKey }),
        latestVersionId(s3, { bucket: config.bucket, key: config.labelsKey }),
      ])
      return { pin: { ...location, weightsVersionId, labelsVersionId }, release: null }
    }
    throw new ModelNotPinnedError('this function serves only pinned S3 versions: MODEL_WEIGHTS_VERSION_ID and ' +
      'MODEL_LABELS_VERSION_ID are not set and the request names no versions (MODEL_ALLOW_LATEST=1 serves the ' +
      'latest versions, for development only)')
  }

  async function readImage (source: ImageSource): Promise<{ bytes: Buffer, metadata: Record<string, string> }> {
    if ('bytes' in source) return { bytes: source.bytes, metadata: {} }
    return await readObject(s3, source, MAX_IMAGE_BYTES)
  }

  /**
   * Runs one image through a leased model and builds the answer: what a direct invocation returns, and the body of
   * an S3 record's output. `started` is when the request began; reading the image and acquiring the model took
   * `imageMs` and `modelMs` of it.
   */
  async function classify (
    lease: ModelLease, { pin, release }: { pin: ModelPin, release: number | null }, image: Buffer, k: number,
    times: { started: number, imageMs: number, modelMs: number }, environment: EnvironmentInfo
  ): Promise<InvokeAnswer> {
    const { classifier, labels } = lease.model
    const size = classifier.inputSize ?? config.image.size
    const spec: PreprocessSpec = {
      size,
      resize: config.image.resize ?? Math.round(size * 256 / 224),
      mean: config.image.mean,
      std: config.image.std,
    }
    const preprocessStarted = performance.now()
    const input = await preprocessImage(image, spec)
    const preprocessed = performance.now()
    const output = await classifier.run(input, size)
    const predictions = topK(scores(output), labels, k)
    const inferred = performance.now()
    return {
      predictions,
      model: answerModelOf(pin, release),
      timings: {
        totalMs: round(inferred - times.started),
        imageMs: round(times.imageMs),
        modelMs: round(times.modelMs),
        preprocessMs: round(preprocessed - preprocessStarted),
        inferenceMs: round(inferred - preprocessed),
      },
      cache: cache.stats(),
      environment,
    }
  }

  async function direct (image: ImageSource, requestPin: RequestPin | undefined, k: number, log: Logger, environment: EnvironmentInfo): Promise<InvokeAnswer> {
    const started = performance.now()
    const resolved = await resolvePin(requestPin, 'the event\'s model')
    const pin = resolved.pin
    // A model in memory (a warm request) is leased at once; otherwise the image read and the load do not depend on
    // each other and run together. The load's log lines carry the pin; a warm request writes one line, with it.
    const inMemory = cache.acquireInMemory(pin)
    const [leased, read] = inMemory !== undefined
      ? [{ status: 'fulfilled', value: { value: inMemory, ms: 0 } } as const, await settle(timed(async () => await readImage(image)))]
      : await Promise.allSettled([timed(async () => await cache.acquire(pin, log.child(pinFields(pin)))), timed(async () => await readImage(image))])
    if (leased.status === 'rejected') throw leased.reason
    const lease = leased.value.value
    try {
      if (read.status === 'rejected') throw read.reason
      const body = await classify(lease, resolved, read.value.value.bytes, k, { started, imageMs: read.value.ms, modelMs: leased.value.ms }, environment)
      // Written just after the answer leaves rather than before: serialising a log line right after a run costs
      // about 0.25 ms here (caches the run has evicted), and the caller need not wait for it. The next turn of
      // the event loop comes long before the runtime has posted the answer and asked for the next event.
      setImmediate(() => log.info({ ...pinFields(pin), top: body.predictions[0], cacheHit: lease.hit, timings: body.timings }, 'classified'))
      return body
    } finally {
      lease.release()
    }
  }

  async function record (rec: S3ObjectRecord, log: Logger, environment: EnvironmentInfo): Promise<S3RecordOutcome> {
    const input = { bucket: rec.bucket, key: rec.key, versionId: rec.versionId ?? null }
    const outputKey = `${config.outputPrefix}${rec.key}`
    if (rec.eventName !== undefined && !rec.eventName.startsWith('ObjectCreated:')) {
      return { input, output: undefined, skipped: `event ${rec.eventName}` }
    }
    // Results written into a watched bucket would notify again; never classify our own output.
    if (rec.bucket === config.outputBucket && rec.key.startsWith(config.outputPrefix) && rec.key.endsWith('.json')) {
      return { input, output: undefined, skipped: 'the object is a result of this function' }
    }
    const rlog = log.child({ input })
    try {
      const started = performance.now()
      const object = await readObject(s3, { bucket: rec.bucket, key: rec.key, versionId: rec.versionId }, MAX_IMAGE_BYTES)
      input.versionId = object.versionId ?? input.versionId
      const imageMs = performance.now() - started
      const resolved = await resolvePin(metadataPin(object.metadata, describeObject(rec)), `the metadata of ${describeObject(rec)}`)
      const pin = resolved.pin
      const plog = rlog.child(pinFields(pin))
      const { value: lease, ms: modelMs } = await timed(async () => await cache.acquire(pin, plog))
      try {
        const answer = await classify(lease, resolved, object.bytes, DEFAULT_TOP_K, { started, imageMs, modelMs }, environment)
        const body: S3RecordOutput = { ...answer, input }
        await putJson(`${outputKey}.json`, body)
        plog.info({ top: body.predictions[0], output: `${outputKey}.json` }, 'classified record')
        return { input, output: `${outputKey}.json` }
      } finally {
        lease.release()
      }
    } catch (error) {
      if (!(error instanceof InferenceError)) throw error
      const body: S3RecordError = { error: { code: error.code, message: error.message }, input }
      await putJson(`${outputKey}.error.json`, body)
      rlog.warn({ code: error.code, message: error.message, output: `${outputKey}.error.json` }, 'record failed')
      return { input, output: `${outputKey}.error.json`, error: error.code }
    }
  }

  async function putJson (key: string, body: unknown): Promise<void> {
    await s3.send(new PutObjectCommand({
      Bucket: config.outputBucket, Key: key, Body: JSON.stringify(body), ContentType: 'application/json',
    }))
  }

  async function warmup (log: Logger, environment: EnvironmentInfo): Promise<WarmupAnswer> {
    const { pin, release } = await resolvePin(undefined, 'the configuration')
    const plog = log.child(pinFields(pin))
    const lease = await cache.acquire(pin, plog)
    lease.release()
    plog.info({ cacheHit: lease.hit }, 'warm')
    return { warm: true, model: answerModelOf(pin, release), cache: cache.stats(), environment }
  }

  async function preload (): Promise<void> {
    const pin = config.pin
    if (pin === undefined) return
    try {
      await cache.preload(pin, deps.logger.child({ ...pinFields(pin), phase: 'init' }))
    } catch (error) {
      const fields = error instanceof InferenceError ? { errorType: error.name, code: error.code, message: error.message } : { err: error }
      deps.logger.warn({ ...pinFields(pin), ...fields }, 'preloading the configured model failed; the first request loads it again')
    }
  }

  const handler: InferenceHandler = async (event, context) => {
    invocations++
    const environment: EnvironmentInfo = { id: environmentId, coldStart: invocations === 1 }
    const log = deps.logger.child({ requestId: context.awsRequestId })
    try {
      const parsed = parseEvent(event)
      switch (parsed.kind) {
        case 'direct':
          return await direct(parsed.image, parsed.pin, parsed.topK, log, environment)
        case 'warmup':
          return await warmup(log, environment)
        case 's3': {
          const settled = await Promise.allSettled(parsed.records.map(async (r) => await record(r, log, environment)))
          const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
          // Every other record has been written; throwing makes Lambda retry the event, and rewriting is idempotent.
          if (failed !== undefined) throw failed.reason
          return { records: settled.map((s) => (s as PromiseFulfilledResult<S3RecordOutcome>).value) }
        }
      }
    } catch (error) {
      // Bad input is the caller's to fix and needs no stack; anything else (S3 5xx, a bug) gets one.
      if (error instanceof InferenceError) {
        log.warn({ errorType: error.name, code: error.code, message: error.message }, 'invocation refused')
      } else {
        log.error({ err: error }, 'invocation failed')
      }
      throw error
    }
  }
  return Object.assign(handler, { preload })
}

function pinFields (pin: ModelPin): Record<string, string> {
  return { weightsVersionId: pin.weightsVersionId, labelsVersionId: pin.labelsVersionId }
}

async function settle<T> (promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  try {
    return { status: 'fulfilled', value: await promise }
  } catch (reason) {
    return { status: 'rejected', reason }
  }
}

/** Runs `work` and times it from the call: the synchronous part (an SDK command's middleware, say) included. */
async function timed<T> (work: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await work()
  return { value, ms: performance.now() - started }
}

function round (ms: number): number {
  return Math.round(ms * 100) / 100
}
