import { Worker } from 'node:worker_threads'

/**
 * Reading a large object on a worker thread.
 *
 * A cold start is bound by the main thread, not by S3: measured in a fresh process loading a ResNet-50 here, the
 * main thread is idle for about 60 ms of about 1,050. Receiving 100 MB takes about 90 ms of it (1,500 socket chunks
 * through the HTTP parser), copying them into one buffer about 100 ms (page faults on memory never touched) and
 * hashing about 90 ms, while the same thread also compiles the function's bundle and loads ONNX Runtime and sharp.
 * So the whole read (the GETs, the copy and the sha256) runs on a worker with only node:http(s) and node:crypto,
 * from a presigned URL (no request: the S3 client's presigner in s3-objects.ts, or src/aws/presign.ts before the SDK
 * is loaded); the worker allocates the buffer, fills and hashes it and transfers it (no copy) to the main thread,
 * which only creates the session from it. This module imports nothing but Node's own.
 *
 * Ranged GETs go out `concurrency` at a time like the main-thread reader (s3-objects.ts); a part that gets no answer
 * or a 5xx is sent again up to three times; S3's error (status, code, message) comes back as the SDK would report
 * it, so the caller classifies it with the same rules (s3-errors.ts).
 */

/**
 * The download thread runs at nice 19: it takes only CPU that nothing else wants. In a Lambda environment, where
 * nothing else runs, that changes little (measured here, 0.537 against 0.52-0.55 for `cold_start_ratio_vs_naive`).
 * On one machine shared by several environments (the local runtime) a cold start's download at full priority took
 * the CPU from the environment serving live traffic: `promotion_latency_ratio` (a promotion's warm-up cold start while
 * a client invokes `live`) was 2.3 to 2.85 with it and 1.99 at nice 19.
 */
const DOWNLOAD_NICE = 19

/** What the worker reports on the way; the buffer comes with `done`. */
type WorkerMessage =
  | { kind: 'head', total: number, headers: Record<string, string | string[] | undefined> }
  | { kind: 'done', buffer: ArrayBuffer, sha256: string }
  | { kind: 'error', status: number | undefined, code: string | undefined, message: string, retryable: boolean }

const WORKER = String.raw`
const { workerData, parentPort } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const { url, partBytes, concurrency, nice } = workerData
// The lowest CPU priority, for this thread only (Linux addresses a thread by its own id): see DOWNLOAD_NICE
if (nice > 0) {
  try {
    const tid = Number(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0])
    require('node:os').setPriority(tid, nice)
  } catch {}
}
const target = new URL(url)
const lib = require(target.protocol === 'https:' ? 'node:https' : 'node:http')
const agent = new lib.Agent({ keepAlive: true, maxSockets: Math.max(1, concurrency) })

class Failure extends Error {
  constructor (status, code, message, retryable) { super(message); this.status = status; this.code = code; this.retryable = retryable }
}

function request (range) {
  return new Promise((resolve, reject) => {
    const req = lib.get(target, { agent, headers: range === undefined ? {} : { Range: range } }, resolve)
    req.setTimeout(30000, () => req.destroy(new Failure(undefined, 'RequestTimeout', 'no answer from S3 for 30 s', true)))
    req.once('error', (error) => reject(error instanceof Failure ? error : new Failure(undefined, error.code, error.message, true)))
  })
}

async function refusal (response) {
  let text = ''
  for await (const chunk of response) { if (text.length < 65536) text += chunk.toString('utf8') }
  const tag = (name) => new RegExp('<' + name + '>([^<]*)</' + name + '>').exec(text)?.[1]
  const status = response.statusCode
  return new Failure(status, tag('Code'), tag('Message') ?? ('HTTP ' + status), status >= 500 || status === 429)
}

// One GET, sent again (up to three times in all) when it got no answer or a 5xx.
async function get (range, accept) {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await request(range)
      if (accept(response.statusCode)) return response
      throw await refusal(response)
    } catch (error) {
      if (!error.retryable || attempt === 3) throw error
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
    }
  }
}

function copy (response, bytes, start, end, arrived) {
  let offset = start
  return new Promise((resolve, reject) => {
    response.on('data', (chunk) => {
      if (offset + chunk.byteLength > end) { response.destroy(new Failure(undefined, undefined, 'S3 sent more bytes than the range ' + start + '-' + (end - 1), true)); return }
      bytes.set(chunk, offset)
      offset += chunk.byteLength
      arrived(offset)
    })
    response.once('end', () => offset === end ? resolve() : reject(new Failure(undefined, undefined, 'connection closed after ' + (offset - start) + ' of ' + (end - start) + ' bytes', true)))
    response.once('error', (error) => reject(error instanceof Failure ? error : new Failure(undefined, error.code, error.message, true)))
  })
}

async function main () {
  let first = await get('bytes=0-' + (partBytes - 1), (status) => status === 200 || status === 206 || status === 416)
  // An empty object has no byte 0: S3 answers 416 to any range, so read it whole.
  if (first.statusCode === 416) { first.resume(); first = await get(undefined, (status) => status === 200) }
  const range = first.headers['content-range']
  const total = range === undefined ? Number(first.headers['content-length'] ?? 0) : Number(range.slice(range.lastIndexOf('/') + 1))
  parentPort.postMessage({ kind: 'head', total, headers: first.headers })
  // allocUnsafeSlow: a buffer of its own (not pooled, not zeroed) whose ArrayBuffer can be transferred
  const bytes = Buffer.allocUnsafeSlow(total)
  const hash = createHash('sha256')
  let hashedTo = 0
  const received = new Map()
  const arrived = (start, upTo) => {
    received.set(start, upTo)
    while (hashedTo < total) {
      const upToHere = received.get(hashedTo < partBytes ? 0 : Math.floor(hashedTo / partBytes) * partBytes)
      if (upToHere === undefined || upToHere <= hashedTo) break
      hash.update(bytes.subarray(hashedTo, upToHere))
      hashedTo = upToHere
    }
  }
  const starts = []
  for (let start = partBytes; start < total; start += partBytes) starts.push(start)
  const part = async () => {
    for (let start = starts.shift(); start !== undefined; start = starts.shift()) {
      const end = Math.min(start + partBytes, total)
      for (let attempt = 1; ; attempt++) {
        try {
          await copy(await get('bytes=' + start + '-' + (end - 1), (status) => status === 206), bytes, start, end, (upTo) => arrived(start, upTo))
          break
        } catch (error) {
          if (!error.retryable || attempt === 3) throw error
          received.delete(start)
        }
      }
    }
  }
  await Promise.all([
    copy(first, bytes, 0, Math.min(partBytes, total), (upTo) => arrived(0, upTo)),
    ...Array.from({ length: Math.min(concurrency, starts.length) }, part),
  ])
  if (hashedTo !== total) throw new Failure(undefined, undefined, 'hashed ' + hashedTo + ' of ' + total + ' bytes', false)
  parentPort.postMessage({ kind: 'done', buffer: bytes.buffer, sha256: hash.digest('hex') }, [bytes.buffer])
  agent.destroy()
}

main().catch((error) => {
  parentPort.postMessage({ kind: 'error', status: error.status, code: error.code, message: error.message, retryable: error.retryable === true })
  agent.destroy()
})
`

/** S3's refusal of a GET made without the SDK, shaped as the SDK would have thrown it, for the caller's classification (s3-errors.ts). */
export class S3RefusalError extends Error {
  readonly $metadata: { httpStatusCode: number | undefined }
  readonly Code: string | undefined
  constructor (message: string, status: number | undefined, code: string | undefined) {
    super(message)
    this.name = code ?? 'S3RefusalError'
    this.Code = code
    this.$metadata = { httpStatusCode: status }
  }
}

/** What a worker read gives: the bytes (in a buffer of their own), their sha256, the first answer's headers. */
export interface WorkerRead {
  bytes: Buffer
  sha256: string
  /** S3's VersionId header; undefined from an unversioned bucket */
  versionId: string | undefined
  /** `x-amz-meta-*` headers without the prefix, as the SDK's `Metadata` */
  metadata: Record<string, string>
}

export interface WorkerReadOptions {
  partBytes: number
  concurrency: number
  signal?: AbortSignal | undefined
  /** Sees the first answer's user metadata and size before the bytes arrive; throwing stops the read. */
  inspect?: ((head: { metadata: Record<string, string>, size: number }) => void) | undefined
  onSize?: ((bytes: number) => void) | undefined
}

/**
 * Reads the object a presigned GET `url` names on a worker thread, in ranged GETs hashed in order as they arrive. S3's
 * refusals reject with a S3RefusalError shaped as the SDK's errors; `describe` names the object in other failures.
 */
export async function readUrlInWorker (url: string, describe: string, options: WorkerReadOptions): Promise<WorkerRead> {
  options.signal?.throwIfAborted()
  // execArgv []: the parent's flags (a loader, --input-type=module) are of no use here and would change how the
  // script is read.
  const worker = new Worker(WORKER, {
    eval: true, execArgv: [], workerData: { url, partBytes: options.partBytes, concurrency: options.concurrency, nice: DOWNLOAD_NICE },
  })
  let head: Extract<WorkerMessage, { kind: 'head' }> | undefined
  try {
    return await new Promise<WorkerRead>((resolve, reject) => {
      // the `finally` below ends the worker
      const stop = (error: unknown): void => reject(error)
      const onAbort = (): void => stop(options.signal?.reason)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      worker.once('exit', (code) => {
        options.signal?.removeEventListener('abort', onAbort)
        // after `done` this changes nothing; before it, the worker died without a word
        reject(new Error(`the worker reading ${describe} exited (code ${code}) before the object was read`))
      })
      worker.once('error', stop)
      worker.on('message', (message: WorkerMessage) => {
        try {
          if (message.kind === 'head') {
            head = message
            options.inspect?.({ metadata: userMetadata(message.headers), size: message.total })
            options.onSize?.(message.total)
          } else if (message.kind === 'done') {
            const versionId = header(head?.headers['x-amz-version-id'])
            resolve({ bytes: Buffer.from(message.buffer), sha256: message.sha256, versionId, metadata: userMetadata(head?.headers ?? {}) })
          } else {
            stop(new S3RefusalError(message.message, message.status, message.code))
          }
        } catch (error) {
          stop(error)
        }
      })
    })
  } finally {
    // Not awaited: the worker runs at nice 19, and its teardown took 20-25 ms of the main thread's wait at the end
    // of a cold start's download (the main thread waited on the least favoured thread of the machine). The read is
    // complete or failed either way; the worker goes in the background.
    worker.terminate().catch(() => {})
  }
}

export function header (value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

/** `x-amz-meta-*` headers without the prefix, as the SDK's `Metadata` (Node lowercases header names). */
export function userMetadata (headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const metadata: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    const text = header(value)
    if (name.startsWith('x-amz-meta-') && text !== undefined) metadata[name.slice('x-amz-meta-'.length)] = text
  }
  return metadata
}
