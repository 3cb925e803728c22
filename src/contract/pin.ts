/**
 * A pin names exactly which S3 object versions answer a request: the weights and the labels of one model, each by
 * its VersionId, with optional sha256 digests that the loader verifies. Nothing in modelpin ever reads "latest".
 */
export interface ModelPin {
  bucket: string
  weightsKey: string
  weightsVersionId: string
  /** lowercase hex; when present the loaded bytes must match */
  weightsSha256?: string | undefined
  labelsKey: string
  labelsVersionId: string
  labelsSha256?: string | undefined
}

/** The Lambda environment variables that carry a pin (the README's Lambda configuration table). */
export const PIN_ENVIRONMENT = {
  bucket: 'MODEL_BUCKET',
  weightsKey: 'MODEL_WEIGHTS_KEY',
  weightsVersionId: 'MODEL_WEIGHTS_VERSION_ID',
  weightsSha256: 'MODEL_WEIGHTS_SHA256',
  labelsKey: 'MODEL_LABELS_KEY',
  labelsVersionId: 'MODEL_LABELS_VERSION_ID',
  labelsSha256: 'MODEL_LABELS_SHA256',
} as const satisfies Record<keyof ModelPin, string>

/**
 * The Lambda environment variable naming the release a published version serves (provenance: answers carry it as
 * `model.release`). Written beside the pin; a version published before it existed lacks it.
 */
export const RELEASE_ENVIRONMENT = 'MODEL_RELEASE'

/** The release number in `env`'s MODEL_RELEASE; undefined when unset or not a positive integer. */
export function releaseFromEnvironment (env: Record<string, string | undefined>): number | undefined {
  const raw = env[RELEASE_ENVIRONMENT]?.trim()
  if (raw === undefined || !/^[1-9][0-9]*$/.test(raw)) return undefined
  const release = Number(raw)
  return Number.isSafeInteger(release) ? release : undefined
}

/** The environment variables that pin `pin`; absent digests are written as empty strings so an update clears them. */
export function pinToEnvironment (pin: ModelPin): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [field, variable] of Object.entries(PIN_ENVIRONMENT) as Array<[keyof ModelPin, string]>) {
    env[variable] = pin[field] ?? ''
  }
  return env
}

/** Reads a pin back from environment variables; undefined when no version IDs are set. */
export function pinFromEnvironment (env: Record<string, string | undefined>): ModelPin | undefined {
  const get = (field: keyof ModelPin): string | undefined => {
    const value = env[PIN_ENVIRONMENT[field]]
    return value === undefined || value === '' ? undefined : value
  }
  const weightsVersionId = get('weightsVersionId')
  const labelsVersionId = get('labelsVersionId')
  const bucket = get('bucket')
  const weightsKey = get('weightsKey')
  const labelsKey = get('labelsKey')
  if (weightsVersionId === undefined || labelsVersionId === undefined || bucket === undefined ||
    weightsKey === undefined || labelsKey === undefined) {
    return undefined
  }
  return {
    bucket,
    weightsKey,
    weightsVersionId,
    weightsSha256: get('weightsSha256'),
    labelsKey,
    labelsVersionId,
    labelsSha256: get('labelsSha256'),
  }
}

/** Two pins name the same objects (digests compared when both carry one). */
export function samePin (a: ModelPin, b: ModelPin): boolean {
  return a.bucket === b.bucket && a.weightsKey === b.weightsKey && a.labelsKey === b.labelsKey &&
    a.weightsVersionId === b.weightsVersionId && a.labelsVersionId === b.labelsVersionId &&
    (a.weightsSha256 ?? b.weightsSha256) === (b.weightsSha256 ?? a.weightsSha256) &&
    (a.labelsSha256 ?? b.labelsSha256) === (b.labelsSha256 ?? a.labelsSha256)
}
