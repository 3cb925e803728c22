import { presignGetObject } from '../aws/presign.js'
import { s3SettingsFromEnv } from '../aws/s3-settings.js'
import { optimizedGraphKey, runtimeSignature, OPTIMIZED_GRAPH_MODES, type GraphSignature } from './optimized-graph.js'
import { defaultDownload, usesGateway } from './read-settings.js'
import { readUrlInWorker, type WorkerRead } from './worker-read.js'

/**
 * The early read: the download of the configuration's pinned model, started by the function's first module
 * (lambda/index.ts) before the function's own bundle is even compiled.
 *
 * A cold start here spent about 250 ms compiling the bundle and evaluating the AWS SDK in it (about 60 ms from V8's
 * code cache, lambda/code-cache.ts) before the handler's module could start the model's download, and the download
 * (on a worker thread, worker-read.ts) needs none of it. So
 * this module reads the pin, the credentials and the download settings from the environment, signs the GET itself
 * (src/aws/presign.ts) and starts the worker at once; the loader takes the read over when it asks for the same object
 * (`takeEarlyRead`), checks and verifies it as any read, and a read nobody asked for is dropped when init ends.
 *
 * It reads the derived optimised graph when graphs are on (optimized-graph.ts), the weights otherwise. Anything it
 * cannot decide alone (a setting it does not understand, no credentials in the environment, a graph that turns out
 * missing) leaves the loader to do as it would without it: the early read only ever saves time.
 */

interface EarlyRead {
  bucket: string
  key: string
  versionId: string | undefined
  read: Promise<WorkerRead>
  /** performance.now() when it started */
  startedAt: number
  abort: AbortController
}

/**
 * The read in flight, and what `startEarlyRead` said: kept on globalThis because the entry point and the function are
 * two bundles (lambda/index.ts, lambda/main.ts), each with its own copy of this module.
 */
const SLOT = Symbol.for('modelpin.early-read')
interface Slot { early: EarlyRead | undefined, status: { status: string, at: number, doneAt?: number } | undefined }
const slot: Slot = ((globalThis as Record<symbol, Slot | undefined>)[SLOT] ??= { early: undefined, status: undefined })

/** What the early read would fetch for `env`, or why there is none. */
export function earlyReadPlan (env: Record<string, string | undefined>): { bucket: string, key: string, versionId: string | undefined, partBytes: number, concurrency: number } | { none: string } {
  const value = (name: string): string | undefined => {
    const text = env[name]?.trim()
    return text === undefined || text === '' ? undefined : text
  }
  if ((value('MODEL_DOWNLOAD_THREAD') ?? 'worker') !== 'worker') return { none: 'MODEL_DOWNLOAD_THREAD is not worker' }
  const bucket = value('MODEL_BUCKET')
  const weightsKey = value('MODEL_WEIGHTS_KEY')
  const weightsVersionId = value('MODEL_WEIGHTS_VERSION_ID')
  if (bucket === undefined || weightsKey === undefined || weightsVersionId === undefined || value('MODEL_LABELS_VERSION_ID') === undefined) {
    return { none: 'no pinned model in the configuration' }
  }
  const mode = value('MODEL_OPTIMIZED_GRAPH') ?? 'readwrite'
  if (!(OPTIMIZED_GRAPH_MODES as readonly string[]).includes(mode)) return { none: `MODEL_OPTIMIZED_GRAPH is ${mode}` }
  const level = value('MODEL_GRAPH_OPTIMIZATION') ?? 'all'
  if (!['disabled', 'basic', 'extended', 'layout', 'all'].includes(level)) return { none: `MODEL_GRAPH_OPTIMIZATION is ${level}` }
  const defaults = defaultDownload(usesGateway(env))
  const partBytes = value('MODEL_DOWNLOAD_PART_BYTES') === undefined ? defaults.partBytes : Number(value('MODEL_DOWNLOAD_PART_BYTES'))
  const concurrency = value('MODEL_DOWNLOAD_CONCURRENCY') === undefined ? defaults.concurrency : Number(value('MODEL_DOWNLOAD_CONCURRENCY'))
  if (!Number.isSafeInteger(partBytes) || partBytes < 65_536 || !Number.isSafeInteger(concurrency) || concurrency < 1) {
    return { none: 'the download settings are not valid' }
  }
  const pin = { weightsKey, weightsVersionId }
  return mode === 'off'
    ? { bucket, key: weightsKey, versionId: weightsVersionId, partBytes, concurrency }
    : { bucket, key: optimizedGraphKey(pin, runtimeSignature(level as GraphSignature['level'])), versionId: undefined, partBytes, concurrency }
}

/**
 * Starts the early read for `env` (the function's environment) when it can; returns what it started, or why not.
 * Never throws: whatever goes wrong here, the loader reads as it would have.
 */
export function startEarlyRead (env: Record<string, string | undefined>): string {
  const status = startRead(env)
  slot.status = { status, at: Math.round(performance.now()) }
  return status
}

/**
 * What the early read of this process did, for the init log line: `at` when it started and `doneAt` when it ended,
 * in ms since the process started.
 */
export function earlyReadStatus (): { status: string, at: number, doneAt?: number } | undefined {
  return slot.status
}

function startRead (env: Record<string, string | undefined>): string {
  try {
    const plan = earlyReadPlan(env)
    if ('none' in plan) return plan.none
    const accessKeyId = env.AWS_ACCESS_KEY_ID
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY
    if (accessKeyId === undefined || accessKeyId === '' || secretAccessKey === undefined || secretAccessKey === '') {
      return 'no credentials in the environment'
    }
    // as the S3 client reads them (endpoint, region, path style); a setting it refuses ends the early read here
    const { endpoint, region, forcePathStyle } = s3SettingsFromEnv(env)
    const url = presignGetObject({
      endpoint,
      region,
      forcePathStyle,
      credentials: { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN },
      bucket: plan.bucket,
      key: plan.key,
      versionId: plan.versionId,
      expiresIn: 900,
    })
    const abort = new AbortController()
    const read = readUrlInWorker(url, `s3://${plan.bucket}/${plan.key}`, { partBytes: plan.partBytes, concurrency: plan.concurrency, signal: abort.signal })
    // Taken over by the loader, which reports a failure; until then it must not be an unhandled rejection.
    const done = (): void => { if (slot.status !== undefined) slot.status.doneAt = Math.round(performance.now()) }
    read.then(done, done)
    slot.early = { bucket: plan.bucket, key: plan.key, versionId: plan.versionId, read, startedAt: performance.now(), abort }
    return `reading s3://${plan.bucket}/${plan.key}`
  } catch (error) {
    return `not started: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** The early read of exactly this object (bucket, key and VersionId, or none for the latest), once; undefined otherwise. */
export function takeEarlyRead (ref: { bucket: string, key: string, versionId?: string | undefined }): { read: Promise<WorkerRead>, startedAt: number } | undefined {
  const early = slot.early
  if (early === undefined || early.bucket !== ref.bucket || early.key !== ref.key || early.versionId !== ref.versionId) return undefined
  slot.early = undefined
  return early
}

/** Stops and drops an early read nobody took; true when there was one. */
export function dropEarlyRead (): boolean {
  const had = slot.early !== undefined
  slot.early?.abort.abort(new Error('nobody took the early read'))
  slot.early = undefined
  return had
}
