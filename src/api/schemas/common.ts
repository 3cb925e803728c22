import { Type, type Static, type TSchema } from 'typebox'
import { NAME_PATTERN, NAME_RULE } from '../../contract/rules.js'
import { NameSchema } from '../../contract/schemas.js'
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
  401: 'no token, or an unknown, revoked or expired token',
  403: 'the token\'s role is too low',
  404: 'the model, release or alias in the path does not exist',
  409: 'a conflicting change (the name exists, or another move of the alias is in flight)',
  408: 'the upload body stopped arriving',
  412: 'the If-Match revision is stale',
  413: 'the upload is larger than the limit',
  415: 'unsupported Content-Type',
  422: 'a release or S3 version named in the body does not exist, or a gate rejected the change',
  429: 'too many failed authentications from this address',
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
 * Model and alias names in paths and bodies: the contract's name rule (src/contract/rules.ts), so `/`, `..` and
 * control characters are refused before any work is done.
 */
export { NAME_PATTERN }
export const ModelNameSchema = Type.With(NameSchema, { description: `model name: ${NAME_RULE}` })
export const AliasNameSchema = Type.With(NameSchema, { description: `alias name, e.g. production: ${NAME_RULE}` })
export const ReleaseNumberSchema = Type.Integer({ minimum: 1, description: 'release number (1, 2, ... per model)' })
export const TimestampSchema = Type.String({ format: 'date-time' })
