import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { Classifier, DEFAULT_SESSION_SETTINGS, warmUpRuntime, type SessionSettings } from './classifier.js'
import { ChecksumMismatchError, InvalidPinError } from './errors.js'
import { parseLabels } from './labels.js'
import { PREFAULT_PER_WEIGHTS_BYTE, startPrefault, type Prefault } from './memory-prefault.js'
import type { ModelPin } from '../contract/pin.js'
import { isSha256, isVersionId, SHA256_RULE, VERSION_ID_RULE } from '../contract/rules.js'
import {
  checkGraphMetadata, GRAPH_METADATA, graphTempFile, optimizedGraphKey, runtimeSignature, UnusableGraphError,
  type GraphSignature, type OptimizedGraphMode,
} from './optimized-graph.js'
import { takeEarlyRead } from './early-read.js'
import {
  DEFAULT_PARALLEL_READ, describeObject, readInWorker, readLatest, readVersion, translateS3Error,
  type ObjectRef, type ParallelReadOptions, type VersionBytes,
} from './s3-objects.js'

/** A model in memory: the session, its labels, and exactly which S3 versions (and bytes) it came from. */
export interface LoadedModel {
  pin: ModelPin
  classifier: Classifier
  labels: string[]
  weightsSha256: string
  labelsSha256: string
  /** Bytes of the weights and labels objects: what the cache counts. */
  bytes: number
  /**
   * Where the session came from: a derived optimised graph of the weights (optimized-graph.ts) or the pinned weights
   * themselves; `note` says why a graph was not used, or that one was written (or why writing it failed).
   */
  graph: { source: 'optimized-graph' | 'weights', key: string | undefined, note: string | undefined }
  /** `graphMs`: looking for a derived graph that was then not used; `writeMs`: saving and uploading a new one. */
  timings: { downloadMs: number, sessionMs: number, totalMs: number, graphMs?: number, writeMs?: number }
}

export interface LoaderSettings {
  session: SessionSettings
  read: ParallelReadOptions
  /** Input side assumed when the model leaves it symbolic. */
  fallbackSize: number
  /**
   * Touch the memory the session will need while the weights download (memory-prefault.ts). Only useful when the
   * process runs with PREFAULT_GLIBC_TUNABLES; the configuration decides (`allocatorRetainsMemory`).
   */
  prefault: boolean
  /** Derived optimised graphs in the model bucket (optimized-graph.ts); the function's configuration turns them on. */
  optimizedGraph: OptimizedGraphMode
  /** Where the weights or graph are read, hashed and copied: a worker thread (worker-read.ts) or the main thread. */
  readThread: 'worker' | 'main'
}

export const DEFAULT_LOADER_SETTINGS: LoaderSettings = {
  session: DEFAULT_SESSION_SETTINGS,
  read: DEFAULT_PARALLEL_READ,
  fallbackSize: 224,
  prefault: false,
  optimizedGraph: 'off',
  readThread: 'worker',
}

/** Checks a pin's shape: version IDs present and printable, digests 64 lowercase hex digits when given. */
export function validatePin (pin: ModelPin, source: string): ModelPin {
  for (const field of ['weightsVersionId', 'labelsVersionId'] as const) {
    if (!isVersionId(pin[field])) {
      throw new InvalidPinError(`${source}: ${field} must be ${VERSION_ID_RULE}, got ${JSON.stringify(pin[field])}`)
    }
  }
  for (const field of ['weightsSha256', 'labelsSha256'] as const) {
    const value = pin[field]
    if (value !== undefined && !isSha256(value)) {
      throw new InvalidPinError(`${source}: ${field} must be ${SHA256_RULE}, got ${JSON.stringify(value)}`)
    }
  }
  return pin
}

/** Throws when a pinned digest does not match what was read. */
export function verifyDigest (ref: { bucket: string, key: string, versionId: string }, expected: string | undefined, actual: string): void {
  if (expected !== undefined && expected !== actual) {
    throw new ChecksumMismatchError(`${describeObject(ref)} has sha256 ${actual}, but the pin expects ${expected}`)
  }
}

/**
 * Loads the pinned weights and labels. Both downloads start at once (the weights as parallel ranged GETs, hashed
 * while they arrive); meanwhile ONNX Runtime is initialised and, when the allocator keeps what it is given back
 * (memory-prefault.ts), a worker touches the memory the session will need. The session is created from the verified
 * bytes as soon as they are complete, then the labels (long since arrived) are verified and counted against the
 * model's classes. The first failure cancels the other download and is the one reported.
 *
 * With derived optimised graphs on, the weights are read only when no usable graph of them exists for this CPU and
 * runtime (optimized-graph.ts): a graph that matches is downloaded and verified instead and the session made from it;
 * otherwise the session made from the weights saves its graph, which is uploaded (`readwrite`) before the load ends.
 */
export async function loadModel (s3: S3Client, pin: ModelPin, settings: LoaderSettings = DEFAULT_LOADER_SETTINGS): Promise<LoadedModel> {
  const started = performance.now()
  const labelsRef = { bucket: pin.bucket, key: pin.labelsKey, versionId: pin.labelsVersionId }
  const abort = new AbortController()
  let firstFailure: unknown
  const fail = (error: unknown): void => {
    // Failures caused by the abort below come later and are not the cause.
    if (firstFailure === undefined) firstFailure = error
    abort.abort()
  }
  const read = { ...settings.read, signal: abort.signal }
  const labelsRead: Promise<VersionBytes> = readVersion(s3, labelsRef, { ...read, concurrency: 1 })
  labelsRead.catch(fail)
  // While the requests are in flight: a no-op after the first load, or the module's init already did it.
  const runtimeReady = warmUpRuntime()

  let classifier: Classifier | undefined
  try {
    let made: Made | undefined
    let note: string | undefined
    let graphMs: number | undefined
    const signature = settings.optimizedGraph === 'off' ? undefined : runtimeSignature(settings.session.graphOptimizationLevel)
    if (signature !== undefined) {
      const tried = await fromOptimizedGraph(s3, pin, signature, settings, read, runtimeReady)
      if ('classifier' in tried) made = tried
      else if (abort.signal.aborted) throw firstFailure
      else [note, graphMs] = [tried.unused, performance.now() - started]
    }
    // Only a load from the weights saves a graph, and only when it may write it.
    const save = made === undefined && signature !== undefined && settings.optimizedGraph === 'readwrite' ? await graphTempFile() : undefined
    try {
      made ??= await fromWeights(s3, pin, settings, read, runtimeReady, save?.path)
      classifier = made.classifier
      const created = performance.now()
      const labels = await labelsRead
      verifyDigest(labelsRef, pin.labelsSha256, labels.sha256)
      const names = parseLabels(labels.bytes.toString('utf8'), classifier.classCount, describeObject(labelsRef))
      let writeMs: number | undefined
      if (save !== undefined && made.source === 'weights') {
        // The model is loaded and verified; a graph that cannot be written only costs the next cold start its time.
        try {
          const written = await writeOptimizedGraph(s3, pin, signature!, save.path, made.weightsSha256)
          note = `${note === undefined ? '' : `${note}; `}wrote s3://${pin.bucket}/${written.key} (${written.bytes} bytes)`
        } catch (error) {
          note = `${note === undefined ? '' : `${note}; `}writing the optimised graph failed: ${reason(error)}`
        }
        writeMs = performance.now() - created
      }
      return {
        pin,
        classifier,
        labels: names,
        weightsSha256: made.weightsSha256,
        labelsSha256: labels.sha256,
        bytes: made.bytes + labels.bytes.byteLength,
        graph: { source: made.source, key: signature === undefined ? undefined : optimizedGraphKey(pin, signature), note },
        timings: {
          downloadMs: made.downloaded - started,
          sessionMs: made.created - made.downloaded,
          totalMs: performance.now() - started,
          ...(graphMs === undefined ? {} : { graphMs }),
          ...(writeMs === undefined ? {} : { writeMs }),
        },
      }
    } finally {
      await save?.remove()
    }
  } catch (error) {
    fail(error)
    await labelsRead.catch(() => {})
    await classifier?.release()
    throw firstFailure
  }
}

/** A session and what it was made from; `downloaded` and `created` are performance.now() stamps. */
interface Made {
  classifier: Classifier
  source: 'optimized-graph' | 'weights'
  weightsSha256: string
  /** Bytes held for the model: the weights, or the graph used in their place. */
  bytes: number
  downloaded: number
  created: number
}

/**
 * The session from the derived graph of `pin` for `signature`, when there is one that matches and verifies and that
 * ONNX Runtime accepts; otherwise why not (`unused`), and the weights are read instead.
 */
async function fromOptimizedGraph (
  s3: S3Client, pin: ModelPin, signature: GraphSignature, settings: LoaderSettings, read: ParallelReadOptions, runtimeReady: Promise<void>
): Promise<Made | { unused: string }> {
  const ref = { bucket: pin.bucket, key: optimizedGraphKey(pin, signature) }
  let expected: string | undefined
  let graph: VersionBytes
  try {
    const inspect = ({ metadata }: { metadata: Record<string, string> }): void => { expected = checkGraphMetadata(metadata, pin, signature) }
    graph = await takenOver(ref, inspect) ??
      (settings.readThread === 'worker' ? await readInWorker(s3, ref, { ...read, inspect }) : await readLatest(s3, ref, { ...read, inspect }))
  } catch (error) {
    return { unused: `no usable optimised graph at ${describeObject(ref)}: ${reason(error)}` }
  }
  if (graph.sha256 !== expected) {
    return { unused: `the optimised graph at ${describeObject(ref)} has sha256 ${graph.sha256}, but its metadata says ${expected ?? 'nothing'}` }
  }
  const downloaded = performance.now()
  await runtimeReady
  try {
    const classifier = await Classifier.create(graph.bytes, settings.session, settings.fallbackSize, { optimizedGraph: true })
    const weightsSha256 = graph.metadata[GRAPH_METADATA.weightsSha256]!
    return { classifier, source: 'optimized-graph', weightsSha256, bytes: graph.bytes.byteLength, downloaded, created: performance.now() }
  } catch (error) {
    return { unused: `ONNX Runtime refused the optimised graph at ${describeObject(ref)}: ${reason(error)}` }
  }
}

/** The session from the pinned weights (saving its optimised graph to `saveTo` when given). */
async function fromWeights (
  s3: S3Client, pin: ModelPin, settings: LoaderSettings, read: ParallelReadOptions, runtimeReady: Promise<void>, saveTo: string | undefined
): Promise<Made> {
  const weightsRef = { bucket: pin.bucket, key: pin.weightsKey, versionId: pin.weightsVersionId }
  let prefault: Prefault | undefined
  const weightsOptions = {
    ...read,
    onSize: (bytes: number) => { if (settings.prefault) prefault = startPrefault(bytes * PREFAULT_PER_WEIGHTS_BYTE) },
  }
  const weightsRead = takenOver(weightsRef, () => {}).then(async (early) => early ??
    (settings.readThread === 'worker' ? await readInWorker(s3, weightsRef, weightsOptions) : await readVersion(s3, weightsRef, weightsOptions)))
  try {
    await runtimeReady
    const weights = await weightsRead
    verifyDigest(weightsRef, pin.weightsSha256, weights.sha256)
    await prefault?.finish()
    const downloaded = performance.now()
    const classifier = await Classifier.create(weights.bytes, settings.session, settings.fallbackSize, saveTo === undefined ? {} : { saveOptimizedGraphTo: saveTo })
    return { classifier, source: 'weights', weightsSha256: weights.sha256, bytes: weights.bytes.byteLength, downloaded, created: performance.now() }
  } finally {
    await prefault?.finish()
    await weightsRead.catch(() => {})
  }
}

/**
 * The function's early read of exactly `ref` (early-read.ts), when one was started: awaited, checked by `inspect`
 * and shaped as the reader's own answer; undefined when there is none, and the caller reads.
 */
async function takenOver (ref: ObjectRef, inspect: (head: { metadata: Record<string, string>, size: number }) => void): Promise<VersionBytes | undefined> {
  const early = takeEarlyRead(ref)
  if (early === undefined) return undefined
  try {
    const read = await early.read
    inspect({ metadata: read.metadata, size: read.bytes.byteLength })
    return { ...read, versionId: read.versionId ?? ref.versionId ?? 'null' }
  } catch (error) {
    throw translateS3Error(error, ref)
  }
}

function reason (error: unknown): string {
  if (error instanceof UnusableGraphError) return error.message
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
  const message = error instanceof Error ? `${error.name}: ${error.message.split('\n')[0]}` : String(error)
  return status === undefined ? message : `${message} (HTTP ${status})`
}

/** Uploads the graph ONNX Runtime saved in `file`, made from the verified weights of `pin` (sha256 `weightsSha256`). */
export async function writeOptimizedGraph (
  s3: S3Client, pin: ModelPin, signature: GraphSignature, file: string, weightsSha256: string
): Promise<{ key: string, bytes: number }> {
  const body = await readFile(file)
  const key = optimizedGraphKey(pin, signature)
  await s3.send(new PutObjectCommand({
    Bucket: pin.bucket,
    Key: key,
    Body: body,
    ContentType: 'application/octet-stream',
    Metadata: {
      [GRAPH_METADATA.sha256]: createHash('sha256').update(body).digest('hex'),
      [GRAPH_METADATA.weightsSha256]: weightsSha256,
      [GRAPH_METADATA.weightsVersionId]: pin.weightsVersionId,
      [GRAPH_METADATA.ortVersion]: signature.ortVersion,
      [GRAPH_METADATA.cpu]: signature.cpu,
      [GRAPH_METADATA.level]: signature.level,
    },
  }))
  return { key, bytes: body.byteLength }
}
