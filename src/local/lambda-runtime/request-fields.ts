import type { AliasRoutingConfiguration, Environment } from '@aws-sdk/client-lambda'
import { invalidParameter, validationError } from './errors.js'
import { LATEST } from './function-model.js'

/**
 * Reading the fields of a control-plane request body. A body is typed by the SDK's request shape, so a field name
 * that Lambda does not have fails to compile, while every value stays `unknown` until a reader here has checked it
 * and answered a bad one with Lambda's error.
 */

/** A request body as it arrives: the fields of the SDK's request shape `T`, none checked yet. */
export type RequestBody<T> = { readonly [K in keyof T]?: unknown }

// Limits of Lambda's API (UpdateFunctionConfiguration): memory 128 MB to 10,240 MB, timeout 1 s to 900 s.
export const MEMORY_RANGE = [128, 10240] as const
export const TIMEOUT_RANGE = [1, 900] as const
const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/
// Variables Lambda sets itself and refuses in a function's configuration.
export const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
])

export function readString<T> (body: RequestBody<T>, field: keyof T & string): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalidParameter(`${field} must be a string`)
  return value
}

export function readInteger<T> (
  body: RequestBody<T>, field: keyof T & string, [min, max]: readonly [number, number]
): number | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

/** An alias `Name`, by Lambda's pattern. */
export function readAliasName<T> (body: RequestBody<T>, field: keyof T & string): string {
  const name = readString(body, field)
  if (name === undefined || !ALIAS_NAME.test(name)) {
    throw validationError(`1 validation error detected: Value '${name ?? 'null'}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`)
  }
  return name
}

/** `Environment.Variables`, replaced whole by an update; Lambda's reserved variables are refused. */
export function readEnvironment (value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object') throw invalidParameter('Environment must be an object')
  const variables = (value as RequestBody<Environment>).Variables ?? {}
  if (typeof variables !== 'object' || variables === null) throw invalidParameter('Environment.Variables must be a map of strings')
  const result: Record<string, string> = {}
  for (const [key, v] of Object.entries(variables)) {
    if (typeof v !== 'string') throw invalidParameter(`Environment variable ${key} must be a string`)
    result[key] = v
  }
  const reserved = Object.keys(result).filter((k) => RESERVED_VARIABLES.has(k))
  if (reserved.length > 0) {
    throw invalidParameter(`Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`)
  }
  return result
}

/**
 * `RoutingConfig.AdditionalVersionWeights`: at most one published version, weighted 0 to 1; undefined when the body
 * has no `RoutingConfig`, `{}` when it clears the weights. Checked in Lambda's order (as recorded on AWS): the map's
 * shape (400 ValidationException: a weight out of range, a key that is not a version number such as `$LATEST`), then
 * the number of entries (400), then that the version exists (`requirePublished` throws Lambda's 404).
 */
export function readWeights (routing: unknown, requirePublished: (version: string) => unknown): Record<string, number> | undefined {
  if (routing === undefined || routing === null) return undefined
  if (typeof routing !== 'object') throw invalidParameter('RoutingConfig must be an object')
  const raw = (routing as RequestBody<AliasRoutingConfiguration>).AdditionalVersionWeights
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object') throw invalidParameter('AdditionalVersionWeights must be a map of version to weight')
  const entries = Object.entries(raw)
  const shown = `{${entries.map(([version, weight]) => `${version}=${javaDouble(weight)}`).join(', ')}}`
  if (entries.some(([, weight]) => typeof weight !== 'number' || !(weight >= 0 && weight <= 1))) {
    throw validationError(`1 validation error detected: Value '${shown}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]`)
  }
  if (entries.some(([version]) => !VERSION_NUMBER.test(version))) {
    throw validationError(`1 validation error detected: Value '${shown}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]`)
  }
  if (entries.length > 1) throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1')
  const weights: Record<string, number> = {}
  for (const [version, weight] of entries) {
    requirePublished(version)
    weights[version] = weight as number
  }
  return weights
}

const VERSION_NUMBER = /^[0-9]{1,1024}$/

/** A number as Lambda's (Java) messages print it: 2 -> "2.0", 0.5 -> "0.5". */
function javaDouble (value: unknown): string {
  if (typeof value !== 'number') return String(value)
  return Number.isInteger(value) ? value.toFixed(1) : String(value)
}

/** Lambda's rules for an alias's routing: the additional version is not the primary one, and `$LATEST` is never weighted. */
export function checkRouting (functionVersion: string, weights: Record<string, number>): void {
  if (Object.keys(weights).includes(functionVersion)) {
    throw invalidParameter(`Invalid function version ${functionVersion}. Function version ${functionVersion} is already included in routing configuration.`)
  }
  if (Object.keys(weights).length > 0 && functionVersion === LATEST) {
    throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version')
  }
}

/** One page of a list call: `Marker` is the index to start at, `MaxItems` 1 to 10,000 (default 50). */
export function paginate<T> (items: T[], marker: string | undefined, maxItems: string | undefined): { items: T[], nextMarker: string | undefined } {
  const start = marker === undefined || marker === '' ? 0 : Number(marker)
  if (!Number.isInteger(start) || start < 0) throw invalidParameter(`Invalid Marker: ${marker}`)
  const limit = maxItems === undefined ? 50 : Number(maxItems)
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw invalidParameter(`MaxItems must be an integer from 1 to 10000, got ${maxItems}`)
  const page = items.slice(start, start + limit)
  return { items: page, nextMarker: start + limit < items.length ? String(start + limit) : undefined }
}
