import { S3Client } from '@aws-sdk/client-s3'
import type { S3Settings } from './s3-settings.js'

// The settings live in a module of their own that imports nothing, so that the function's early read
// (src/inference/early-read.ts) reads them as the client does before the SDK is loaded.
export { s3SettingsFromEnv, type S3Settings } from './s3-settings.js'

/**
 * Builds one S3 client for these settings; create it once and share it (it pools connections).
 *
 * `cacheMiddleware`: the client resolves each command's middleware stack once per command class instead of on every
 * request (the function's client: about 0.65 ms of a 3.3 ms GetObject of the input image here). Middleware added to
 * the client or a command after its first request is then ignored, so only clients nobody adds middleware to use it.
 */
export function createS3Client (
  settings: S3Settings, credentials?: { accessKeyId: string, secretAccessKey: string }, options: { cacheMiddleware?: boolean } = {}
): S3Client {
  const checksum = settings.checksums === 'when_required' ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED'
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    ...(credentials === undefined ? {} : { credentials }),
    cacheMiddleware: options.cacheMiddleware ?? false,
  })
}
