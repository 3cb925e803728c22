/**
 * The formats every part of modelpin agrees on (the registry, the API's schemas, the deployer, the function, the
 * CLI): each rule is written here once, as a regular expression for code and as a pattern string for JSON Schema.
 */

/**
 * Model and alias names: safe in URLs, S3 keys and Lambda descriptions. Lowercase letters, digits, `.`, `_`, `-`,
 * starting with a letter or digit, at most 63 characters (a DNS label's length), never `..` (a path segment).
 */
export const NAME_PATTERN = '^(?!.*\\.\\.)[a-z0-9][a-z0-9._-]{0,62}$'
const NAME = new RegExp(NAME_PATTERN)
export const NAME_RULE = '1 to 63 lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, without ".."'

/** True when `name` is a valid model or alias name. */
export function isValidName (name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name)
}

/**
 * An S3 VersionId: S3 documents them as opaque URL-ready strings of at most 1,024 bytes; AWS's and radosgw's are
 * printable ASCII without spaces (radosgw's unversioned objects answer "null"), so that is what modelpin accepts.
 */
export const VERSION_ID_PATTERN = '^[\\x21-\\x7e]{1,1024}$'
const VERSION_ID = new RegExp(VERSION_ID_PATTERN)
export const VERSION_ID_RULE = 'an S3 VersionId (1 to 1024 printable characters without spaces)'

/** True when `value` has the form of an S3 VersionId. */
export function isVersionId (value: unknown): value is string {
  return typeof value === 'string' && VERSION_ID.test(value)
}

/** A sha256 digest as modelpin writes and accepts it everywhere: 64 lowercase hex digits. */
export const SHA256_PATTERN = '^[0-9a-f]{64}$'
const SHA256 = new RegExp(SHA256_PATTERN)
export const SHA256_RULE = '64 lowercase hex digits'

/** True when `value` is a lowercase hex sha256. */
export function isSha256 (value: unknown): value is string {
  return typeof value === 'string' && SHA256.test(value)
}

/**
 * An S3 bucket name as modelpin accepts it: S3's legacy rules (3 to 255 letters, digits, `.`, `_`, `-`, still valid
 * for old us-east-1 buckets), so no bucket S3 serves is refused; S3 itself refuses the names it does not know.
 */
export const BUCKET_NAME_PATTERN = '^[A-Za-z0-9._-]{3,255}$'
const BUCKET_NAME = new RegExp(BUCKET_NAME_PATTERN)
export const BUCKET_NAME_RULE = 'an S3 bucket name (3 to 255 letters, digits, ".", "_" or "-")'

/** True when `value` can be an S3 bucket name. */
export function isBucketName (value: unknown): value is string {
  return typeof value === 'string' && BUCKET_NAME.test(value)
}
