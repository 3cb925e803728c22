/**
 * The local Lambda runtime: an HTTP server speaking the part of the Lambda REST API that modelpin and the AWS CLI
 * use, running each function version in child-process execution environments, and turning radosgw's bucket
 * notifications into asynchronous S3-shaped invocations. Local stack and tests only; production never loads it.
 */
export {
  startLambdaRuntime, LambdaRuntime,
  type LambdaRuntimeOptions, type RuntimeStats, type RuntimeEvents, type InvocationRecord,
} from './runtime.js'
export type { InvokeResult } from './api-backend.js'
export type { VersionStats } from './environment-pool.js'
export type { StopReason, FunctionErrorPayload } from './environment.js'
export {
  ACCOUNT_ID, DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, type LocalFunctionConfig,
} from './function-model.js'
export { s3EventsPath } from './http-api.js'
export {
  rewriteRadosgwNotification, rewriteRadosgwRecord, encodeS3EventKey, InvalidNotificationError, type S3EventRecord,
} from './s3-events.js'
export { LambdaApiError } from './errors.js'
