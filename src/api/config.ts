import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { s3SettingsFromEnv, type S3Settings } from '../aws/s3-client.js'

/** Everything the admin API reads from its environment, validated once at start-up. */
export interface ApiConfig {
  host: string
  port: number
  /** where the SQLite database (by default) and the admin token file live */
  dataDir: string
  /** `sqlite:<path>` or `postgres://...` */
  databaseUrl: string
  /** the admin token to bootstrap; undefined means reuse `<dataDir>/admin-token` or generate one */
  adminToken: string | undefined
  /** where uploads are spooled while they are hashed, before they go to S3 */
  uploadTmpDir: string
  logLevel: string
  s3: S3Settings
  /** the Lambda API endpoint (the local runtime's URL locally); undefined means AWS Lambda in the S3 region */
  lambdaEndpoint: string | undefined
  /** how long an alias lock lives unrenewed before another process may take it over */
  lockTtlSeconds: number
  /** how often this process reconciles the registry with Lambda (it also does at start-up) */
  reconcileSeconds: number
  /** how long one read of a Lambda alias answers every alias read of this process */
  liveCacheMs: number
  /** invocations an evaluation keeps in flight at once */
  evaluationConcurrency: number
  /** how long an evaluation waits for one invocation's answer before it counts as unanswered (and is retried) */
  evaluationInvokeTimeoutMs: number
  /** the CloudWatch endpoint (the local runtime's subset locally); undefined means AWS CloudWatch in the region */
  cloudwatchEndpoint: string | undefined
  /** the period rollouts read Lambda's metrics at, and how long after a step's window they wait for them */
  metricsPeriodSeconds: number
  metricsDelaySeconds: number
  /** the largest upload body accepted (413 payload_too_large above it) */
  maxUploadBytes: number
  /** an upload body that sends nothing for this long is refused (408 body_timeout) */
  bodyTimeoutMs: number
  /** failed authentications from one address within 60 s before it gets 429 rate_limited */
  authFailuresPerMinute: number
  /** false: a pending migration stops the start (run `npm run db:migrate`) */
  autoMigrate: boolean
  /** PostgreSQL: connection and statement timeouts */
  pgConnectTimeoutMs: number
  pgStatementTimeoutMs: number
}

/** 4 GiB: a full-size ResNet-50 is about 100 MB, the largest ONNX models a Lambda can load are a few GB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 ** 3

export interface ApiVariable {
  name: string
  default: string
  description: string
}

/**
 * Every environment variable the admin API reads, with its default and meaning: the source for the README's
 * configuration table, so a variable is added here and there together.
 */
export const API_ENVIRONMENT: readonly ApiVariable[] = [
  { name: 'MODELPIN_API_HOST', default: '127.0.0.1', description: 'interface the admin API listens on' },
  { name: 'MODELPIN_API_PORT', default: '3000', description: 'port the admin API listens on (0 picks a free one)' },
  { name: 'MODELPIN_DATA_DIR', default: '.modelpin', description: 'directory for the SQLite database and the admin token file' },
  { name: 'DATABASE_URL', default: 'sqlite:<MODELPIN_DATA_DIR>/registry.db', description: 'registry database: `sqlite:<path>`, or `postgres://...` for PostgreSQL (several API replicas)' },
  { name: 'MODELPIN_ADMIN_TOKEN', default: '(unset)', description: 'admin token to bootstrap; unset: reuse `<MODELPIN_DATA_DIR>/admin-token`, or generate one and write it there' },
  { name: 'MODELPIN_UPLOAD_TMP_DIR', default: '(the OS temporary directory)', description: 'where uploads are spooled and hashed before they go to S3: each process uses `modelpin-<host>-<pid>/` under it, and at start-up removes the folders of processes of its host that no longer run' },
  { name: 'MODELPIN_MAX_UPLOAD_BYTES', default: String(DEFAULT_MAX_UPLOAD_BYTES), description: 'largest upload body (4 GiB by default): a larger one, by Content-Length or once the stream passes it, gets 413 `payload_too_large`, stores nothing and leaves no spool file' },
  { name: 'MODELPIN_BODY_TIMEOUT_MS', default: '30000', description: 'milliseconds an upload body may send nothing before it gets 408 `body_timeout` (or its connection closed), storing nothing' },
  { name: 'MODELPIN_AUTH_FAILURES_PER_MINUTE', default: '20', description: 'failed authentications one client address may make within 60 s (per process); more get 429 `rate_limited` with `Retry-After`, while requests with a valid token are still served' },
  { name: 'MODELPIN_AUTO_MIGRATE', default: 'true', description: '`false`: the API does not migrate the database at start-up, and a pending migration stops the start with a message naming `npm run db:migrate`' },
  { name: 'MODELPIN_PG_CONNECT_TIMEOUT_MS', default: '5000', description: 'PostgreSQL: milliseconds to open a connection before the request fails' },
  { name: 'MODELPIN_PG_STATEMENT_TIMEOUT_MS', default: '30000', description: 'PostgreSQL: the server cancels a statement that runs longer (milliseconds)' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino log level (trace, debug, info, warn, error, fatal, silent)' },
  { name: 'AWS_ENDPOINT_URL_S3', default: '(AWS S3)', description: 'S3 endpoint, e.g. `http://127.0.0.1:7480` for the local radosgw (falls back to `AWS_ENDPOINT_URL`)' },
  { name: 'S3_FORCE_PATH_STYLE', default: 'true with a custom endpoint, else false', description: 'path-style bucket addressing (`true` or `false`)' },
  { name: 'S3_CHECKSUMS', default: 'when_required with a custom endpoint, else when_supported', description: 'SDK flexible checksums; radosgw needs `when_required`' },
  { name: 'AWS_REGION', default: 'us-east-1', description: 'AWS region of S3 and Lambda (falls back to `AWS_DEFAULT_REGION`)' },
  { name: 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY', default: '(the SDK\'s credential chain)', description: 'credentials for S3 and Lambda; any source of the AWS SDK\'s default chain works' },
  { name: 'AWS_ENDPOINT_URL_LAMBDA', default: '(AWS Lambda)', description: 'Lambda API endpoint, e.g. `http://127.0.0.1:9001` for the local runtime' },
  { name: 'MODELPIN_LOCK_TTL_SECONDS', default: '30', description: 'seconds an alias lock lives without renewal (its move renews it every third of this) before another process takes it over and settles its move' },
  { name: 'MODELPIN_RECONCILE_SECONDS', default: '60', description: 'seconds between two reconciles of the registry with Lambda (each process also reconciles at start-up)' },
  { name: 'MODELPIN_EVALUATION_CONCURRENCY', default: '4', description: 'invocations an evaluation keeps in flight at once, both releases together (1 to 64)' },
  { name: 'MODELPIN_EVALUATION_INVOKE_TIMEOUT_MS', default: '60000', description: 'milliseconds an evaluation waits for one invocation\'s answer; one with no answer is retried three times, then counts as an error of its side' },
  { name: 'AWS_ENDPOINT_URL_CLOUDWATCH', default: '(AWS CloudWatch)', description: 'CloudWatch endpoint rollouts read Lambda\'s metrics from, e.g. the local runtime\'s (`endpoints.cloudwatch` in `.modelpin/stack.json`)' },
  { name: 'MODELPIN_METRICS_PERIOD_SECONDS', default: '60', description: 'period of the Lambda metrics a rollout reads (Lambda publishes one-minute metrics); a rollout\'s `stepSeconds` is at least this' },
  { name: 'MODELPIN_METRICS_DELAY_SECONDS', default: '180', description: 'seconds a rollout waits after a step\'s window for its metrics to arrive in CloudWatch before judging it (0 to 86400)' },
  { name: 'MODELPIN_LIVE_CACHE_MS', default: '2000', description: 'milliseconds one read of a Lambda alias answers every alias read of the process (moves always read Lambda afresh); 0 shares only reads in flight' },
]

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']

// Hand-written, not env-schema: ajv's messages ("env/LOG_LEVEL must be equal to one of the allowed values") neither
// lead with the variable nor say what is allowed, and DATABASE_URL's redaction and the URL checks are code either way.
/** Builds the API's configuration from `env`; throws an error naming the variable when one is wrong. */
export function loadApiConfig (env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const dataDir = resolve(nonEmpty(env.MODELPIN_DATA_DIR) ?? '.modelpin')
  const databaseUrl = nonEmpty(env.DATABASE_URL) ?? `sqlite:${join(dataDir, 'registry.db')}`
  if (!/^sqlite:.+/.test(databaseUrl) && !/^postgres(ql)?:\/\/.+/.test(databaseUrl)) {
    throw new Error(`DATABASE_URL must be "sqlite:<path>" or "postgres://...", got "${redactUrl(databaseUrl)}"`)
  }
  const adminToken = nonEmpty(env.MODELPIN_ADMIN_TOKEN)
  if (adminToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(adminToken)) {
    throw new Error('MODELPIN_ADMIN_TOKEN must be at least 16 printable characters with no spaces')
  }
  const logLevel = nonEmpty(env.LOG_LEVEL) ?? 'info'
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`)
  }
  const lambdaEndpoint = nonEmpty(env.AWS_ENDPOINT_URL_LAMBDA)
  if (lambdaEndpoint !== undefined) requireHttpUrl('AWS_ENDPOINT_URL_LAMBDA', lambdaEndpoint)
  const cloudwatchEndpoint = nonEmpty(env.AWS_ENDPOINT_URL_CLOUDWATCH)
  if (cloudwatchEndpoint !== undefined) requireHttpUrl('AWS_ENDPOINT_URL_CLOUDWATCH', cloudwatchEndpoint)
  const s3 = s3SettingsFromEnv(env)
  if (s3.endpoint !== undefined) requireHttpUrl('AWS_ENDPOINT_URL_S3', s3.endpoint)
  return {
    host: nonEmpty(env.MODELPIN_API_HOST) ?? '127.0.0.1',
    port: port('MODELPIN_API_PORT', nonEmpty(env.MODELPIN_API_PORT) ?? '3000'),
    dataDir,
    databaseUrl,
    adminToken,
    uploadTmpDir: resolve(nonEmpty(env.MODELPIN_UPLOAD_TMP_DIR) ?? tmpdir()),
    logLevel,
    s3,
    lambdaEndpoint,
    lockTtlSeconds: positiveInteger('MODELPIN_LOCK_TTL_SECONDS', nonEmpty(env.MODELPIN_LOCK_TTL_SECONDS) ?? '30'),
    reconcileSeconds: positiveInteger('MODELPIN_RECONCILE_SECONDS', nonEmpty(env.MODELPIN_RECONCILE_SECONDS) ?? '60'),
    liveCacheMs: milliseconds('MODELPIN_LIVE_CACHE_MS', nonEmpty(env.MODELPIN_LIVE_CACHE_MS) ?? '2000'),
    evaluationConcurrency: boundedInteger('MODELPIN_EVALUATION_CONCURRENCY', nonEmpty(env.MODELPIN_EVALUATION_CONCURRENCY) ?? '4', 1, 64),
    evaluationInvokeTimeoutMs: boundedInteger('MODELPIN_EVALUATION_INVOKE_TIMEOUT_MS', nonEmpty(env.MODELPIN_EVALUATION_INVOKE_TIMEOUT_MS) ?? '60000', 100, 900_000),
    cloudwatchEndpoint,
    metricsPeriodSeconds: positiveInteger('MODELPIN_METRICS_PERIOD_SECONDS', nonEmpty(env.MODELPIN_METRICS_PERIOD_SECONDS) ?? '60'),
    metricsDelaySeconds: seconds('MODELPIN_METRICS_DELAY_SECONDS', nonEmpty(env.MODELPIN_METRICS_DELAY_SECONDS) ?? '180'),
    maxUploadBytes: wholeNumber('MODELPIN_MAX_UPLOAD_BYTES', nonEmpty(env.MODELPIN_MAX_UPLOAD_BYTES) ?? String(DEFAULT_MAX_UPLOAD_BYTES), 1, Number.MAX_SAFE_INTEGER, 'bytes'),
    bodyTimeoutMs: wholeNumber('MODELPIN_BODY_TIMEOUT_MS', nonEmpty(env.MODELPIN_BODY_TIMEOUT_MS) ?? '30000', 1, 3_600_000, 'milliseconds'),
    authFailuresPerMinute: wholeNumber('MODELPIN_AUTH_FAILURES_PER_MINUTE', nonEmpty(env.MODELPIN_AUTH_FAILURES_PER_MINUTE) ?? '20', 1, 1_000_000, 'failures'),
    autoMigrate: booleanValue('MODELPIN_AUTO_MIGRATE', nonEmpty(env.MODELPIN_AUTO_MIGRATE) ?? 'true'),
    pgConnectTimeoutMs: wholeNumber('MODELPIN_PG_CONNECT_TIMEOUT_MS', nonEmpty(env.MODELPIN_PG_CONNECT_TIMEOUT_MS) ?? '5000', 1, 3_600_000, 'milliseconds'),
    pgStatementTimeoutMs: wholeNumber('MODELPIN_PG_STATEMENT_TIMEOUT_MS', nonEmpty(env.MODELPIN_PG_STATEMENT_TIMEOUT_MS) ?? '30000', 1, 3_600_000, 'milliseconds'),
  }
}

function positiveInteger (name: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1 || n > 86400) throw new Error(`${name} must be a whole number of seconds from 1 to 86400, got "${value}"`)
  return n
}

function boundedInteger (name: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, got "${value}"`)
  return n
}

function seconds (name: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 86400) throw new Error(`${name} must be a whole number of seconds from 0 to 86400, got "${value}"`)
  return n
}

function milliseconds (name: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 3_600_000) throw new Error(`${name} must be a whole number of milliseconds from 0 to 3600000, got "${value}"`)
  return n
}

function wholeNumber (name: string, value: string, min: number, max: number, unit: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new Error(`${name} must be a whole number of ${unit} from ${min} to ${max}, got "${value}"`)
  return n
}

function booleanValue (name: string, value: string): boolean {
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new Error(`${name} must be true or false, got "${value}"`)
}

function port (name: string, value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) throw new Error(`${name} must be a port number (0 to 65535), got "${value}"`)
  return n
}

function requireHttpUrl (name: string, value: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new Error(`${name} must be a URL, got "${value}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${name} must be an http(s) URL, got "${value}"`)
}

/** A database URL without its password, for error messages. */
function redactUrl (value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}
