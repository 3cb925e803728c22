import type { S3Client } from '@aws-sdk/client-s3'
import { Classifier, DEFAULT_SESSION_SETTINGS, warmUpRuntime, type SessionSettings } from './classifier.js'
import { ChecksumMismatchError, InvalidPinError } from './errors.js'
import { parseLabels } from './labels.js'
import { PREFAULT_PER_WEIGHTS_BYTE, startPrefault, type Prefault } from './memory-prefault.js'
import type { ModelPin } from '../contract/pin.js'
import { isSha256, isVersionId, SHA256_RULE, VERSION_ID_RULE } from '../contract/rules.js'
import { DEFAULT_PARALLEL_READ, describeObject, readVersion, type ParallelReadOptions, type VersionBytes } from './s3-objects.js'

/** A model in memory: the session, its labels, and exactly which S3 versions (and bytes) it came from. */
export interface LoadedModel {
  pin: ModelPin
  classifier: Classifier
  labels: string[]
  weightsSha256: string
  labelsSha256: string
  /** Bytes of the weights and labels objects: what the cache counts. */
  bytes: number
  timings: { downloadMs: number, sessionMs: number, totalMs: number }
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
}

export const DEFAULT_LOADER_SETTINGS: LoaderSettings = {
  session: DEFAULT_SESSION_SETTINGS,
  read: DEFAULT_PARALLEL_READ,
  fallbackSize: 224,
  prefault: false,
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
 */
export async function loadModel (s3: S3Client, pin: ModelPin, settings: LoaderSettings = DEFAULT_LOADER_SETTINGS): Promise<LoadedModel> {
  const started = performance.now()
  const weightsRef = { bucket: pin.bucket, key: pin.weightsKey, versionId: pin.weightsVersionId }
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
  let prefault: Prefault | undefined
  const weightsRead = readVersion(s3, weightsRef, {
    ...read,
    onSize: (bytes) => { if (settings.prefault) prefault = startPrefault(bytes * PREFAULT_PER_WEIGHTS_BYTE) },
  })
  weightsRead.catch(fail)
  // While the requests are in flight: a no-op after the first load, or the module's init already did it.
  await warmUpRuntime()

  let classifier: Classifier | undefined
  try {
    const weights = await weightsRead.finally(async () => await prefault?.finish())
    verifyDigest(weightsRef, pin.weightsSha256, weights.sha256)
    const downloaded = performance.now()
    classifier = await Classifier.create(weights.bytes, settings.session, settings.fallbackSize)
    const created = performance.now()
    const labels = await labelsRead
    verifyDigest(labelsRef, pin.labelsSha256, labels.sha256)
    const names = parseLabels(labels.bytes.toString('utf8'), classifier.classCount, describeObject(labelsRef))
    return {
      pin,
      classifier,
      labels: names,
      weightsSha256: weights.sha256,
      labelsSha256: labels.sha256,
      bytes: weights.bytes.byteLength + labels.bytes.byteLength,
      timings: { downloadMs: downloaded - started, sessionMs: created - downloaded, totalMs: performance.now() - started },
    }
  } catch (error) {
    fail(error)
    await prefault?.finish()
    await labelsRead.catch(() => {})
    await classifier?.release()
    throw firstFailure
  }
}
