/**
 * The rules of rules.ts and the bounds of limits.ts as TypeBox schemas, for the admin API's routes and the function's
 * event: each schema is built from the one definition there, never from a number or pattern of its own. The
 * description of a rule's schema is the rule in words, so a refusal and the OpenAPI document say the same thing.
 */
import { Type } from 'typebox'
import { MAX_KEY_BYTES, MAX_TEXT_LENGTH, MAX_TOP_K } from './limits.js'
import {
  BUCKET_NAME_PATTERN, BUCKET_NAME_RULE, NAME_PATTERN, NAME_RULE, SHA256_PATTERN, SHA256_RULE, VERSION_ID_PATTERN,
  VERSION_ID_RULE,
} from './rules.js'

/** A model or alias name (isValidName). */
export const NameSchema = Type.String({ pattern: NAME_PATTERN, description: NAME_RULE })

/** An S3 VersionId (isVersionId). */
export const VersionIdSchema = Type.String({ pattern: VERSION_ID_PATTERN, description: VERSION_ID_RULE })

/** A sha256 digest, lowercase hex (isSha256). */
export const Sha256Schema = Type.String({ pattern: SHA256_PATTERN, description: SHA256_RULE })

/** An S3 bucket name (isBucketName). */
export const BucketNameSchema = Type.String({ pattern: BUCKET_NAME_PATTERN, description: BUCKET_NAME_RULE })

/**
 * An S3 object key. S3 bounds keys at MAX_KEY_BYTES bytes of UTF-8; JSON Schema can only count characters, so this
 * bound lets through some keys that are too long in bytes, which S3 (or the registry, for a model's keys) refuses.
 */
// No control characters that XML 1.0 cannot carry (found by fuzzing): S3 answers about such a key in XML that the
// SDK cannot parse, so a request for one failed with the SDK's own error rather than a refusal naming the key.
export const ObjectKeySchema = Type.String({
  minLength: 1,
  maxLength: MAX_KEY_BYTES,
  pattern: '^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]+$',
  description: `an S3 object key (1 to ${MAX_KEY_BYTES} characters, no control characters but tab, CR and LF)`,
})

/**
 * Free text (a release's notes, a move's reason): up to MAX_TEXT_LENGTH characters, no NUL (found by fuzzing:
 * PostgreSQL refuses a NUL in text, so it was a 500 there and stored on SQLite).
 */
export const FreeTextSchema = Type.String({ maxLength: MAX_TEXT_LENGTH, pattern: '^[^\\u0000]*$', description: `text of at most ${MAX_TEXT_LENGTH} characters, without NUL` })

/** How many predictions one request asks for (DEFAULT_TOP_K when it names none). */
export const TopKSchema = Type.Integer({ minimum: 1, maximum: MAX_TOP_K, description: `1 to ${MAX_TOP_K} predictions` })
