import type { FastifyReply, FastifyRequest } from 'fastify'
import { ApiError } from './errors.js'

/**
 * ETag and If-Match of the objects that carry a number for optimistic concurrency: an alias's revision, a model's
 * version. The ETag is the number in quotes (`"7"`); If-Match takes it quoted or bare (`7`).
 */

/** Sends `number` as the answer's ETag (`"7"`). */
export function sendETag (reply: FastifyReply, number: number): void {
  reply.header('etag', `"${number}"`)
}

/** `If-Match: "7"` or `If-Match: 7` is 7; absent is no precondition; anything else is `400 invalid_input` naming `what`. */
export function ifMatchNumber (request: FastifyRequest, what: string): number | undefined {
  const header = request.headers['if-match']
  if (header === undefined) return undefined
  const match = /^\s*(?:"(\d{1,15})"|(\d{1,15}))\s*$/.exec(header)
  const digits = match?.[1] ?? match?.[2]
  if (digits === undefined) {
    throw new ApiError('invalid_input', `If-Match must be ${what}, as its ETag ("7") or bare (7); got ${JSON.stringify(header)}`)
  }
  return Number(digits)
}
