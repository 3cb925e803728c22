import {
  DEFAULT_POLICY_MAX_AGE_SECONDS, MAX_POLICY_LATENCY_RATIO, MAX_POLICY_MAX_AGE_SECONDS, isCanaryWeight, isPrewarm, MAX_ACTOR_LENGTH, MAX_PREWARM, MAX_GATE_IMAGES, MAX_HISTORY_LIMIT, MAX_KEY_BYTES, MAX_TEXT_LENGTH, MAX_TOP_K,
} from '../contract/limits.js'
import { isValidName, isVersionId, NAME_RULE, VERSION_ID_RULE } from '../contract/rules.js'
import { InvalidInputError } from './errors.js'
import { ARTIFACT_KINDS, type ArtifactKind, type Model, type PromotionPolicy, type S3Location } from './model.js'

/**
 * The registry's input checks. Each throws InvalidInputError naming the field, before anything is read or written,
 * so bad input never changes anything. The rules shared with other parts of modelpin come from src/contract.
 */

/** Lambda alias names: letters, digits, `-` and `_`, not all digits (Lambda's CreateAlias rule). */
const FUNCTION_ALIAS_PATTERN = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/
/** A function name, or its full or partial ARN (Lambda's FunctionName rule, at most 170 characters). */
const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_:.-]{1,170}$/
const BUCKET_PATTERN = /^[A-Za-z0-9._-]{3,255}$/
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/

/** What a model is besides its name and timestamps: everything registering or updating it sets. */
export type ModelSettings = Omit<Model, 'name' | 'createdAt' | 'updatedAt' | 'version'>

/** What every alias move takes besides its own fields. */
export interface MoveInput {
  reason?: string | null | undefined
  ifMatch?: number | undefined
  /** skip the promotion policy (promote, canary start); the API lets only admins send it */
  force?: boolean | undefined
}

export function checkName (field: string, name: unknown): asserts name is string {
  if (!isValidName(name)) throw new InvalidInputError(`${field} must be ${NAME_RULE}`)
}

export function checkActor (actor: unknown): void {
  if (typeof actor !== 'string' || actor === '' || actor.length > MAX_ACTOR_LENGTH || CONTROL_CHARACTERS.test(actor)) {
    throw new InvalidInputError('actor must be a non-empty name without control characters')
  }
}

export function checkObject (value: unknown, what: string): void {
  if (value === null || typeof value !== 'object') throw new InvalidInputError(`${what} must be an object`)
}

export function checkKind (kind: unknown): ArtifactKind {
  if (!(ARTIFACT_KINDS as readonly unknown[]).includes(kind)) throw new InvalidInputError(`kind must be one of ${ARTIFACT_KINDS.join(', ')}`)
  return kind as ArtifactKind
}

export function checkVersionId (field: string, versionId: unknown): asserts versionId is string {
  if (!isVersionId(versionId)) throw new InvalidInputError(`${field} must be ${VERSION_ID_RULE}`)
}

/** Free text (`notes`, `reason`): null when absent or empty. */
export function optionalText (field: string, value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null
  // no NUL: PostgreSQL cannot store it in text (found by fuzzing)
  if (typeof value !== 'string' || value.length > MAX_TEXT_LENGTH || value.includes('\u0000')) {
    throw new InvalidInputError(`${field} must be text of at most ${MAX_TEXT_LENGTH} characters, without NUL`)
  }
  return value
}

/** A release number named in a body (`release`, `to`): an integer from 1. */
export function checkReleaseNumber (field: string, number: unknown): number {
  if (!Number.isInteger(number) || (number as number) < 1) throw new InvalidInputError(`${field} must be a release number (1, 2, ...)`)
  return number as number
}

/** The fields every move takes; returns the reason as recorded. */
export function checkMoveInput (input: MoveInput): string | null {
  checkObject(input, 'the request body')
  const reason = optionalText('reason', input.reason)
  if (input.ifMatch !== undefined && (!Number.isInteger(input.ifMatch) || input.ifMatch < 0)) {
    throw new InvalidInputError('If-Match must be a revision number')
  }
  if (input.force !== undefined && typeof input.force !== 'boolean') throw new InvalidInputError('force must be true or false')
  return reason
}

export function checkCanaryWeight (weight: unknown): asserts weight is number {
  if (!isCanaryWeight(weight)) throw new InvalidInputError('weight must be a number between 0 and 1 (exclusive)')
}

export function checkHistoryLimit (limit: unknown): asserts limit is number {
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > MAX_HISTORY_LIMIT) {
    throw new InvalidInputError(`limit must be an integer from 1 to ${MAX_HISTORY_LIMIT}`)
  }
}

export function checkTopK (topK: unknown): void {
  if (topK !== undefined && (!Number.isInteger(topK) || (topK as number) < 1 || (topK as number) > MAX_TOP_K)) {
    throw new InvalidInputError(`topK must be an integer from 1 to ${MAX_TOP_K}`)
  }
}

/** Validates a model's settings; returns them with only the fields the registry stores. */
export function checkModelSettings (settings: ModelSettings): ModelSettings {
  checkBucket('bucket', settings.bucket)
  checkKey('weightsKey', settings.weightsKey)
  checkKey('labelsKey', settings.labelsKey)
  if (settings.weightsKey === settings.labelsKey) throw new InvalidInputError('weightsKey and labelsKey must be different objects')
  if (settings.functionName !== null && (typeof settings.functionName !== 'string' || !FUNCTION_NAME_PATTERN.test(settings.functionName))) {
    throw new InvalidInputError('functionName must be a Lambda function name or ARN')
  }
  if (typeof settings.functionAlias !== 'string' || !FUNCTION_ALIAS_PATTERN.test(settings.functionAlias)) {
    throw new InvalidInputError('functionAlias must be a Lambda alias name (letters, digits, "-", "_", not only digits)')
  }
  checkName('deployAlias', settings.deployAlias)
  if (!Array.isArray(settings.gateImages) || settings.gateImages.length > MAX_GATE_IMAGES) {
    throw new InvalidInputError(`gateImages must be a list of at most ${MAX_GATE_IMAGES} {bucket, key}`)
  }
  const gateImages = settings.gateImages.map((image: S3Location, i): S3Location => {
    if (image === null || typeof image !== 'object') throw new InvalidInputError(`gateImages[${i}] must be {bucket, key}`)
    checkBucket(`gateImages[${i}].bucket`, image.bucket)
    checkKey(`gateImages[${i}].key`, image.key)
    return { bucket: image.bucket, key: image.key }
  })
  if (!isPrewarm(settings.prewarm)) throw new InvalidInputError(`prewarm must be an integer from 0 to ${MAX_PREWARM}`)
  return { ...settings, gateImages, promotionPolicy: checkPromotionPolicy(settings.promotionPolicy) }
}

export function checkBucket (field: string, bucket: unknown): asserts bucket is string {
  if (typeof bucket !== 'string' || !BUCKET_PATTERN.test(bucket)) {
    throw new InvalidInputError(`${field} must be an S3 bucket name (3 to 255 letters, digits, ".", "_" or "-")`)
  }
}

function checkKey (field: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES || CONTROL_CHARACTERS.test(key)) {
    throw new InvalidInputError(`${field} must be a non-empty S3 key of at most ${MAX_KEY_BYTES} bytes without control characters`)
  }
}

const POLICY_FIELDS = ['minAgreement', 'maxErrorRate', 'maxLatencyRatio', 'maxAgeSeconds']

/**
 * A promotion policy: null, or an object of the known criteria, each in range (shares 0..1, a latency ratio above 0,
 * an age in whole seconds); `maxAgeSeconds` is filled in with its default so that reading the model shows it.
 */
export function checkPromotionPolicy (policy: unknown): PromotionPolicy | null {
  if (policy === null || policy === undefined) return null
  if (typeof policy !== 'object' || Array.isArray(policy)) throw new InvalidInputError('promotionPolicy must be an object or null')
  const fields = policy as Record<string, unknown>
  const unknown = Object.keys(fields).filter((field) => !POLICY_FIELDS.includes(field))
  if (unknown.length > 0) throw new InvalidInputError(`promotionPolicy has unknown fields: ${unknown.join(', ')} (known: ${POLICY_FIELDS.join(', ')})`)
  const share = (field: string): number | undefined => {
    const value = fields[field]
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) throw new InvalidInputError(`promotionPolicy.${field} must be a number from 0 to 1`)
    return value
  }
  const checked: PromotionPolicy = {}
  const minAgreement = share('minAgreement')
  if (minAgreement !== undefined) checked.minAgreement = minAgreement
  const maxErrorRate = share('maxErrorRate')
  if (maxErrorRate !== undefined) checked.maxErrorRate = maxErrorRate
  const ratio = fields.maxLatencyRatio
  if (ratio !== undefined) {
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio <= 0 || ratio > MAX_POLICY_LATENCY_RATIO) {
      throw new InvalidInputError(`promotionPolicy.maxLatencyRatio must be a number above 0 and at most ${MAX_POLICY_LATENCY_RATIO}`)
    }
    checked.maxLatencyRatio = ratio
  }
  const age = fields.maxAgeSeconds ?? DEFAULT_POLICY_MAX_AGE_SECONDS
  if (!Number.isInteger(age) || (age as number) < 1 || (age as number) > MAX_POLICY_MAX_AGE_SECONDS) {
    throw new InvalidInputError(`promotionPolicy.maxAgeSeconds must be a whole number of seconds from 1 to ${MAX_POLICY_MAX_AGE_SECONDS}`)
  }
  checked.maxAgeSeconds = age as number
  return checked
}
