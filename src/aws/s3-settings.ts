/** How to reach S3: AWS itself (no endpoint) or an S3-compatible gateway such as radosgw. */
export interface S3Settings {
  /** Custom endpoint (radosgw locally); undefined means AWS S3 in `region`. */
  endpoint?: string | undefined
  region: string
  forcePathStyle: boolean
  /**
   * `when_required` sends no flexible checksums: radosgw (Ceph 16) answers a streamed PutObject carrying the SDK's
   * default trailing checksum with 411 MissingContentLength. AWS accepts both.
   */
  checksums: 'when_required' | 'when_supported'
}

/**
 * Reads S3 settings from the environment. Credentials are left to the SDK's default chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, a profile, or the Lambda role), so the same code runs against AWS and radosgw.
 */
export function s3SettingsFromEnv (env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL)
  const checksums = nonEmpty(env.S3_CHECKSUMS) ?? (endpoint === undefined ? 'when_supported' : 'when_required')
  if (checksums !== 'when_required' && checksums !== 'when_supported') {
    throw new Error(`S3_CHECKSUMS must be "when_required" or "when_supported", got "${checksums}"`)
  }
  const pathStyle = nonEmpty(env.S3_FORCE_PATH_STYLE)
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new Error(`S3_FORCE_PATH_STYLE must be "true" or "false", got "${pathStyle}"`)
  }
  return {
    endpoint,
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? 'us-east-1',
    forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
    checksums,
  }
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
