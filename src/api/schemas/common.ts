import { Type, type Static, type TSchema } from 'typebox'
import { ERROR_CODES } from '../errors.js'

/** The one error shape of the API: `{"error": {"code", "message"}}`, with a code of the README's error table. */
export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ enum: Object.keys(ERROR_CODES), description: 'stable; see the README\'s error table' }),
    message: Type.String({ description: 'for the person who sent the request' }),
  }),
})
export type ErrorBody = Static<typeof ErrorSchema>

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'malformed body, query, header or name',
  401: 'no token, or an unknown token',
  403: 'the token\'s role is too low',
  404: 'the model, release or alias in the path does not exist',
  409: 'a conflicting change (the name exists, or another move of the alias is in flight)',
  412: 'the If-Match revision is stale',
  415: 'unsupported Content-Type',
  422: 'a release or S3 version named in the body does not exist, or a gate rejected the change',
  500: 'unexpected failure (details only in the server log)',
  502: 'Lambda failed; nothing moved',
}

/** Response schemas for the error statuses a route can answer (each documented in the OpenAPI document). */
export function errorResponses (...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [
    status, { ...ErrorSchema, description: ERROR_DESCRIPTIONS[status] ?? 'error' },
  ]))
}

/**
 * Model and alias names in paths: the registry's rule (`isValidName`: lowercase letters, digits, `.`, `_`, `-`,
 * starting with a letter or digit, no `..`, at most 63 characters) restated as a pattern for the OpenAPI document,
 * so `/`, `..` and control characters are refused before any work is done. A test keeps the two in agreement.
 */
export const NAME_PATTERN = '^(?!.*\\.\\.)[a-z0-9][a-z0-9._-]{0,62}$'

export const ModelNameSchema = Type.String({ pattern: NAME_PATTERN, description: 'model name' })
export const AliasNameSchema = Type.String({ pattern: NAME_PATTERN, description: 'alias name, e.g. production' })
export const ReleaseNumberSchema = Type.Integer({ minimum: 1, description: 'release number (1, 2, ... per model)' })
export const VersionIdSchema = Type.String({ minLength: 1, maxLength: 1024, description: 'an S3 VersionId' })
export const Sha256Schema = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'lowercase hex sha256' })
export const TimestampSchema = Type.String({ format: 'date-time' })
