/**
 * What an S3 error means for the request that got it. One rule for the admin API's artifact store and the function's
 * loader, so that both read "this version is not there" the same way. The answers each case covers are those of
 * radosgw (checked in test/s3-errors-*.test.ts against the local gateway) and those AWS documents for GetObject and
 * HeadObject (replayed there from a fake endpoint):
 * - radosgw answers 404 NoSuchKey to every GET that finds nothing (unknown, malformed or another key's VersionId, a
 *   delete marker's, a missing key) and a bodiless 404 to every such HEAD, so it never tells key and version apart;
 * - AWS answers 404 NoSuchVersion to an unknown VersionId, 400 InvalidArgument to a malformed one, and 405
 *   MethodNotAllowed to a delete marker's; a HEAD gets the same statuses without a body (so without an error code).
 */
export type S3ErrorKind =
  /** the bucket does not exist */
  | 'bucket-not-found'
  /** no VersionId was named and the key has no current version (never written, or deleted) */
  | 'key-not-found'
  /** the request named a VersionId that is not a readable version of the key (or the key is not there at all) */
  | 'version-not-found'
  /** S3 does not know the access key or cannot verify the signature: no request with these credentials succeeds */
  | 'credentials-rejected'
  /** the credentials may not do this (a 403 from policy or ACLs) */
  | 'access-denied'
  /** any other refusal (4xx): sending the same request again will not help */
  | 'refused'
  /** no answer, a 5xx, throttling or a request timeout: the same request may succeed later */
  | 'transient'

/** The request that failed, as far as classification needs it: whether it named a version. */
export interface S3Request {
  versionId?: string | undefined
}

const TRANSIENT_CODES = new Set(['RequestTimeout', 'SlowDown', 'Throttling', 'ThrottlingException', 'RequestLimitExceeded'])
const CREDENTIAL_CODES = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch'])

/** Classifies an error thrown by an S3 client's `send` (or anything else, which is `transient` unless it has a 4xx). */
export function classifyS3Error (error: unknown, request: S3Request = {}): S3ErrorKind {
  const status = httpStatusOf(error)
  // A HEAD answer has no body, so the SDK names its error after the status ("NotFound", "Unknown"): no S3 code.
  const code = s3CodeOf(error)
  const namesVersion = request.versionId !== undefined
  if (code !== undefined && TRANSIENT_CODES.has(code)) return 'transient'
  if (status === undefined || status >= 500 || status === 429) return 'transient'
  if (code === 'NoSuchBucket') return 'bucket-not-found'
  if (status === 404) return namesVersion ? 'version-not-found' : 'key-not-found'
  if (namesVersion && status === 405) return 'version-not-found'
  if (namesVersion && status === 400 && (code === undefined || code === 'InvalidArgument')) return 'version-not-found'
  if (code !== undefined && CREDENTIAL_CODES.has(code)) return 'credentials-rejected'
  if (status === 403) return 'access-denied'
  return 'refused'
}

/** True for the three kinds that mean "there is nothing at that bucket, key and version". */
export function isNotFound (kind: S3ErrorKind): boolean {
  return kind === 'bucket-not-found' || kind === 'key-not-found' || kind === 'version-not-found'
}

/** The HTTP status of the answer that caused `error`; undefined when there was no answer. */
export function httpStatusOf (error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null | undefined)?.$metadata?.httpStatusCode
  return typeof status === 'number' ? status : undefined
}

/** The error code in S3's XML body (`<Code>`), which the SDK copies to `Code`; undefined for a bodiless answer. */
function s3CodeOf (error: unknown): string | undefined {
  const code = (error as { Code?: unknown } | null | undefined)?.Code
  return typeof code === 'string' && code !== '' ? code : undefined
}
