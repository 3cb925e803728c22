import type { IncomingMessage } from 'node:http'
import { Transform, type Readable } from 'node:stream'
import { ApiError } from './errors.js'

export interface BodyLimits {
  /** more bytes than this fail the stream with 413 payload_too_large */
  maxBytes: number
  /** this long without a byte fails the stream with 408 body_timeout */
  idleMs: number
}

/**
 * `source` (a request body) as a stream that fails with an ApiError once it passes `maxBytes` or sends nothing for
 * `idleMs`. Whoever reads it (the spool) then stops and cleans up; the source is left unread, and the route closes
 * the connection with its answer, so the rest of the body is never read. Code of our own: Fastify's bodyLimit and
 * connection timeouts only cover the bodies it parses itself, not a stream handed to a route.
 */
export function boundedBody (source: Readable, limits: BodyLimits): Readable {
  let received = 0
  let timer: NodeJS.Timeout | undefined
  const bounded = new Transform({
    transform (chunk: Buffer, _encoding, done) {
      received += chunk.length
      if (received > limits.maxBytes) {
        done(new ApiError('payload_too_large', `the upload passed the limit of ${limits.maxBytes} bytes (MODELPIN_MAX_UPLOAD_BYTES): nothing was stored`))
        return
      }
      arm()
      done(null, chunk)
    },
    flush (done) {
      clearTimeout(timer)
      done()
    },
    destroy (error, done) {
      clearTimeout(timer)
      source.unpipe(bounded)
      done(error)
    },
  })
  const arm = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => {
      bounded.destroy(new ApiError('body_timeout', `the upload sent nothing for ${limits.idleMs} ms (MODELPIN_BODY_TIMEOUT_MS): nothing was stored`))
    }, limits.idleMs)
  }
  source.once('error', (error) => bounded.destroy(error))
  arm()
  source.pipe(bounded)
  return bounded
}

/** Refuses a body whose declared length is already over the limit, before a byte of it is read. */
export function checkDeclaredLength (header: string | undefined, maxBytes: number): void {
  if (header === undefined || !/^\d+$/.test(header)) return
  if (Number(header) > maxBytes) {
    throw new ApiError('payload_too_large', `Content-Length ${header} is over the limit of ${maxBytes} bytes (MODELPIN_MAX_UPLOAD_BYTES): nothing was stored`)
  }
}

/** How long, and how many bytes, a refused upload is still read (and dropped) after its answer before the connection is cut. */
const LINGER_MS = 2000
const LINGER_BYTES = 64 * 1024 * 1024

/**
 * Reads and drops what a refused upload still sends, for a while, then closes its connection. Closing at once would
 * make the client's next write meet a reset, and a client that sees the reset before it reads the answer loses the
 * answer (seen under load); reading the rest to its end would let a client send gigabytes for nothing.
 */
export function dropTheRest (raw: IncomingMessage): void {
  if (raw.complete) return
  let dropped = 0
  const close = (): void => {
    clearTimeout(timer)
    raw.socket?.destroy()
  }
  const timer = setTimeout(close, LINGER_MS)
  raw.on('data', (chunk: Buffer) => {
    dropped += chunk.length
    if (dropped > LINGER_BYTES) close()
  })
  raw.once('end', () => { clearTimeout(timer) })
  raw.resume()
}
