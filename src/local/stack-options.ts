import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'

/** The local stack's defaults (README: "What npm start brings up"); each is overridable through `StackOptions`. */
export const STACK_DEFAULTS = {
  host: '127.0.0.1',
  s3Port: 7480,
  lambdaPort: 9001,
  /** the local runtime's CloudWatch subset (GetMetricData) */
  cloudwatchPort: 9002,
  apiPort: 3000,
  dataDir: '.modelpin',
  s3Credentials: { accessKeyId: 'modelpin', secretAccessKey: 'modelpin-secret' },
  region: 'us-east-1',
  buckets: { input: 'modelpin-input', models: 'modelpin-models', output: 'modelpin-output' },
  functionName: 'modelpin-inference',
  functionAlias: 'live',
  model: 'resnet50',
  deployAlias: 'production',
  lambdaUpdateMs: 1000,
} as const

/** The stack's environment variables (the README's "Local stack" table). */
export const STACK_ENVIRONMENT = [
  { name: 'MODELPIN_S3_PORT', default: String(STACK_DEFAULTS.s3Port), description: 'port of radosgw (started by the stack on its store in the data dir when nothing answers there)' },
  { name: 'MODELPIN_LAMBDA_PORT', default: String(STACK_DEFAULTS.lambdaPort), description: 'port of the local Lambda runtime' },
  { name: 'MODELPIN_CLOUDWATCH_PORT', default: String(STACK_DEFAULTS.cloudwatchPort), description: 'port of the local runtime\'s CloudWatch subset (GetMetricData of the invocations it ran), `endpoints.cloudwatch` in stack.json' },
  { name: 'MODELPIN_API_PORT', default: String(STACK_DEFAULTS.apiPort), description: 'port of the admin API' },
  { name: 'MODELPIN_DATA_DIR', default: STACK_DEFAULTS.dataDir, description: 'registry database, admin token, stack.json, radosgw\'s store, the Lambda runtime\'s state and generated models' },
  { name: 'MODELPIN_ADMIN_TOKEN', default: '(generated once, kept in <data dir>/admin-token)', description: 'admin token to use instead' },
  { name: 'MODELPIN_LAMBDA_UPDATE_MS', default: String(STACK_DEFAULTS.lambdaUpdateMs), description: 'how long the local Lambda runtime keeps a configuration update `InProgress` (AWS takes one to a few seconds)' },
  { name: 'MODELPIN_DEMO_MODEL', default: 'resnet50', description: '`resnet50` (100 MB, the real architecture) or `tiny` (a small ResNet, for a quick look)' },
] as const

export interface StackOptions {
  dataDir: string
  host: string
  /** radosgw's port; when nothing answers, the stack starts radosgw there on its store in `<dataDir>/s3` (and stops it on close) */
  s3Port: number
  lambdaPort: number
  /** the local runtime's CloudWatch port (default STACK_DEFAULTS.cloudwatchPort; 0 picks a free one) */
  cloudwatchPort?: number | undefined
  apiPort: number
  buckets: { input: string, models: string, output: string }
  functionName: string
  functionAlias: string
  /** the registry model name, also the key prefix in the model bucket */
  model: string
  /** `resnet50` for the demo, `tiny` for fast end-to-end tests */
  modelKind: 'resnet50' | 'tiny'
  /** where the generated model files are kept between starts */
  modelDir: string
  adminToken?: string | undefined
  /** seeds the runtime's weighted-alias router (exact shares in tests) */
  routerSeed?: number | undefined
  /** idle execution environments are reaped after this long */
  idleTimeoutMs?: number | undefined
  /** how long the runtime keeps an update `InProgress` (default `STACK_DEFAULTS.lambdaUpdateMs`; tests pass less) */
  lambdaUpdateMs?: number | undefined
  /** the demo model's `prewarm` when the stack registers it (default: the registry's) */
  demoPrewarm?: number | undefined
  logger: Logger
  /** progress lines for the person who started the stack */
  say: (line: string) => void
}

/**
 * Options for a stack that runs beside others on one radosgw (tests, benchmarks): its own buckets with a random
 * suffix, free ports for the Lambda runtime and the admin API, the stack's default function and model names.
 */
export function sideBySideStackOptions (options: {
  dataDir: string
  bucketPrefix: string
  modelKind: 'resnet50' | 'tiny'
  modelDir: string
  logger: Logger
  say: (line: string) => void
}): StackOptions {
  const suffix = randomBytes(4).toString('hex')
  const { bucketPrefix: prefix, ...rest } = options
  return {
    ...rest,
    host: STACK_DEFAULTS.host,
    s3Port: STACK_DEFAULTS.s3Port,
    lambdaPort: 0,
    cloudwatchPort: 0,
    apiPort: 0,
    buckets: { input: `${prefix}in-${suffix}`, models: `${prefix}models-${suffix}`, output: `${prefix}out-${suffix}` },
    functionName: STACK_DEFAULTS.functionName,
    functionAlias: STACK_DEFAULTS.functionAlias,
    model: STACK_DEFAULTS.model,
  }
}
