import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { GetObjectCommand, HeadObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3'
import { classifyS3Error, httpStatusOf, isNotFound } from '../aws/s3-errors.js'
import { DEFAULT_PARALLEL_READ as READ_DEFAULTS } from './read-settings.js'
import { directGet, directGetTarget, responseFields } from './direct-get.js'
import { readUrlInWorker } from './worker-read.js'
import { AccessDeniedError, ImageTooLargeError, InferenceError, VersionNotFoundError } from './errors.js'

/** One S3 object; `versionId` undefined means the latest version (only ever used for input images). */
export interface ObjectRef {
  bucket: string
  key: string
  versionId?: string | undefined
}

/** `s3://bucket/key (VersionId x)`: how every message names an object. */
export function describeObject (ref: ObjectRef): string {
  return `s3://${ref.bucket}/${ref.key} (${ref.versionId === undefined ? 'latest version' : `VersionId ${ref.versionId}`})`
}

export interface ParallelReadOptions {
  /** Bytes per ranged GET. */
  partBytes: number
  /** Ranged GETs in flight at once. */
  concurrency: number
  signal?: AbortSignal | undefined
  /** Called once the object's size is known (with the first response's headers), before its bytes arrive. */
  onSize?: ((bytes: number) => void) | undefined
  /**
   * Looks at the first response's headers (user metadata, size) before any byte is read; throwing refuses the
   * object, ends the read and is what the read rejects with.
   */
  inspect?: ((head: { metadata: Record<string, string>, size: number }) => void) | undefined
}

/** How model bytes are downloaded by default (read-settings.ts). */
export const DEFAULT_PARALLEL_READ: ParallelReadOptions = READ_DEFAULTS

export interface VersionBytes {
  bytes: Buffer
  /** lowercase hex sha256 of `bytes`, computed while the parts arrive */
  sha256: string
  versionId: string
  /** User metadata of the version read, keys lowercase as S3 returns them. */
  metadata: Record<string, string>
}

/**
 * Reads exactly one version of an object into one buffer with parallel ranged GETs, hashing the parts in order
 * as they complete, so hashing overlaps the download. Never reads "latest": the VersionId is required.
 */
export async function readVersion (
  s3: S3Client, ref: ObjectRef & { versionId: string }, options: ParallelReadOptions = DEFAULT_PARALLEL_READ
): Promise<VersionBytes> {
  return await readParts(s3, ref, options)
}

/**
 * `readVersion` of whatever version is the latest of a key: only for an object that carries its own digest in its
 * metadata and is verified against it (a derived optimised graph, optimized-graph.ts), never for a pinned artifact.
 */
export async function readLatest (s3: S3Client, ref: { bucket: string, key: string }, options: ParallelReadOptions): Promise<VersionBytes> {
  return await readParts(s3, { ...ref, versionId: undefined }, options)
}

async function readParts (s3: S3Client, ref: ObjectRef, options: ParallelReadOptions): Promise<VersionBytes> {
  const abort = new AbortController()
  const onAbort = (): void => abort.abort(options.signal?.reason)
  options.signal?.addEventListener('abort', onAbort, { once: true })
  // The later parts ask for the version the first one got, so a latest read never mixes two versions' bytes.
  let versionId = ref.versionId
  const get = async (range?: string): Promise<GetObjectCommandOutput> => await s3.send(new GetObjectCommand({
    Bucket: ref.bucket, Key: ref.key, VersionId: versionId, Range: range,
  }), { abortSignal: abort.signal })

  try {
    let first: GetObjectCommandOutput
    try {
      first = await get(`bytes=0-${options.partBytes - 1}`)
    } catch (error) {
      // An empty object has no byte 0: S3 answers 416 to any range, so read it whole.
      if (httpStatusOf(error) !== 416) throw error
      first = await get()
    }
    const total = totalSize(first)
    options.inspect?.({ metadata: first.Metadata ?? {}, size: total })
    versionId ??= first.VersionId
    options.onSize?.(total)
    const bytes = Buffer.allocUnsafe(total)
    const hash = createHash('sha256')
    // Hashed as the bytes arrive, in order: every chunk of the part that holds the first unhashed byte is hashed
    // at once, and a later part's bytes as soon as everything before them is in. So the digest is ready with the
    // last byte (one stream included) instead of a part's or the whole object's hashing time after it.
    let hashedTo = 0
    const received = new Map<number, number>()
    const arrived = (start: number, upTo: number): void => {
      received.set(start, upTo)
      while (hashedTo < total) {
        const upToHere = received.get(hashedTo < options.partBytes ? 0 : Math.floor(hashedTo / options.partBytes) * options.partBytes)
        if (upToHere === undefined || upToHere <= hashedTo) break
        hash.update(bytes.subarray(hashedTo, upToHere))
        hashedTo = upToHere
      }
    }

    const starts: number[] = []
    for (let start = options.partBytes; start < total; start += options.partBytes) starts.push(start)
    const firstEnd = Math.min(options.partBytes, total)
    const worker = async (): Promise<void> => {
      for (let start = starts.shift(); start !== undefined; start = starts.shift()) {
        const end = Math.min(start + options.partBytes, total)
        const part = await get(`bytes=${start}-${end - 1}`)
        await copyBody(part.Body as Readable, bytes, start, end, ref, (upTo) => arrived(start, upTo))
      }
    }
    await Promise.all([
      copyBody(first.Body as Readable, bytes, 0, firstEnd, ref, (upTo) => arrived(0, upTo)),
      ...Array.from({ length: Math.min(options.concurrency, starts.length) }, worker),
    ])
    if (hashedTo !== total) throw new Error(`${describeObject(ref)}: hashed ${hashedTo} of ${total} bytes`)
    return { bytes, sha256: hash.digest('hex'), versionId: first.VersionId ?? ref.versionId ?? 'null', metadata: first.Metadata ?? {} }
  } catch (error) {
    abort.abort()
    throw translateS3Error(error, ref)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

/**
 * `readVersion` (or, without a VersionId, `readLatest`) on a worker thread (worker-read.ts): the GETs go out from a URL
 * this client presigns, and the main thread only gets the filled, hashed buffer.
 */
export async function readInWorker (s3: S3Client, ref: ObjectRef, options: ParallelReadOptions): Promise<VersionBytes> {
  try {
    options.signal?.throwIfAborted()
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }), { expiresIn: 900 })
    const read = await readUrlInWorker(url, describeObject(ref), options)
    return { ...read, versionId: read.versionId ?? ref.versionId ?? 'null' }
  } catch (error) {
    throw translateS3Error(error, ref)
  }
}

function totalSize (response: GetObjectCommandOutput): number {
  const range = response.ContentRange
  if (range !== undefined) {
    const total = Number(range.slice(range.lastIndexOf('/') + 1))
    if (Number.isSafeInteger(total)) return total
  }
  return response.ContentLength ?? 0
}

/**
 * Streams a response body into `target[start, end)` without an intermediate concatenation; `onData` is told how
 * far the bytes have arrived after each chunk.
 */
async function copyBody (
  body: Readable, target: Buffer, start: number, end: number, ref: ObjectRef, onData?: (upTo: number) => void
): Promise<void> {
  let offset = start
  // 'data' events rather than `for await`: a 100 MB body is 1,500 chunks, and the async iterator's promise per
  // chunk costs tens of milliseconds of the main thread while the download competes with S3 for the CPU.
  await new Promise<void>((resolve, reject) => {
    body.on('data', (data: Buffer) => {
      if (offset + data.byteLength > end) {
        body.destroy(new Error(`${describeObject(ref)}: S3 sent more bytes than the range ${start}-${end - 1}`))
        return
      }
      data.copy(target, offset)
      offset += data.byteLength
      onData?.(offset)
    })
    body.once('end', resolve)
    body.once('error', reject)
    body.once('close', () => { if (!body.readableEnded) reject(new Error(`${describeObject(ref)}: connection closed early`)) })
  })
  // A short body is a dropped connection, not bad input: a plain Error, so the caller retries.
  if (offset !== end) throw new Error(`${describeObject(ref)}: connection closed after ${offset - start} of ${end - start} bytes`)
}

export interface ObjectBytes {
  bytes: Buffer
  /** The version read (undefined in an unversioned bucket). */
  versionId: string | undefined
  /** User metadata, keys lowercase as S3 returns them. */
  metadata: Record<string, string>
}

/**
 * Reads a small object (an input image) in one GET, refusing it before the body is read when over `maxBytes`. The GET
 * goes out directly (direct-get.ts: about 1.3 ms less per request than the SDK's GetObject here), or through the
 * client when its settings are beyond what the direct GET signs for.
 */
export async function readObject (s3: S3Client, ref: ObjectRef, maxBytes: number): Promise<ObjectBytes> {
  try {
    const target = await directGetTarget(s3)
    if (target === undefined) {
      const response = await s3.send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }))
      const bytes = await readSmallBody(response.Body as Readable, response.ContentLength, ref, maxBytes)
      return { bytes, versionId: response.VersionId, metadata: response.Metadata ?? {} }
    }
    const response = await directGet(target, ref)
    const { versionId, metadata, contentLength } = responseFields(response)
    return { bytes: await readSmallBody(response, contentLength, ref, maxBytes), versionId, metadata }
  } catch (error) {
    throw translateS3Error(error, ref)
  }
}

/** A body of at most `maxBytes` into one buffer: sized from Content-Length when there is one, counted otherwise. */
async function readSmallBody (body: Readable, size: number | undefined, ref: ObjectRef, maxBytes: number): Promise<Buffer> {
  const tooLarge = (bytes: number): Error => {
    body.destroy()
    return new ImageTooLargeError(`${describeObject(ref)} is ${bytes} bytes; the limit is ${maxBytes}`)
  }
  if (size !== undefined) {
    if (size > maxBytes) throw tooLarge(size)
    const bytes = Buffer.allocUnsafe(size)
    await copyBody(body, bytes, 0, size, ref)
    return bytes
  }
  // No Content-Length (a gateway that streams): count while reading.
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of body) {
    total += (chunk as Buffer).byteLength
    if (total > maxBytes) throw tooLarge(total)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, total)
}

/** The VersionId of the latest version of a key (development only: MODEL_ALLOW_LATEST). `null` when unversioned. */
export async function latestVersionId (s3: S3Client, ref: { bucket: string, key: string }): Promise<string> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }))
    return head.VersionId ?? 'null'
  } catch (error) {
    throw translateS3Error(error, ref)
  }
}

/**
 * Errors that blame the request become domain errors naming the object; everything else (5xx, throttling,
 * network failures, aborts, other refusals) is returned unchanged so that callers can retry it.
 */
export function translateS3Error (error: unknown, ref: ObjectRef): unknown {
  if (!(error instanceof Error) || error instanceof InferenceError) return error
  const kind = classifyS3Error(error, ref)
  if (isNotFound(kind)) {
    // a 400 for a VersionId that is not even well formed (AWS): S3's own words say which
    const detail = httpStatusOf(error) === 400 ? ` (S3: ${error.message})` : ''
    return new VersionNotFoundError(`${describeObject(ref)} does not exist${detail}`, { cause: error })
  }
  if (kind === 'access-denied' || kind === 'credentials-rejected') {
    return new AccessDeniedError(`access to ${describeObject(ref)} was denied`, { cause: error })
  }
  return error
}
