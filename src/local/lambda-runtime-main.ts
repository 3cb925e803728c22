/**
 * Starts the local Lambda runtime on its own: `tsx src/local/lambda-runtime-main.ts <config.json>` (or the path in
 * LAMBDA_RUNTIME_CONFIG). Ctrl-C or SIGTERM stops it and every execution environment it started.
 *
 * The config file (JSON):
 * {
 *   "host": "127.0.0.1",              // optional, default 127.0.0.1
 *   "port": 9001,                     // optional, default 9001
 *   "cloudwatchPort": 9002,           // optional: serve CloudWatch GetMetricData of the invocations run (0: a free port)
 *   "region": "us-east-1",            // optional, default us-east-1
 *   "seed": 42,                       // optional: exact, deterministic weighted-alias routing (tests)
 *   "idleTimeoutMs": 600000,          // optional: idle execution environments are reaped after this
 *   "statePath": "state.json",        // optional: keeps functions, versions and aliases across restarts (relative
 *                                     //   to the config file); without it they live in memory only
 *   "updateDelayMs": 1000,            // optional: how long an update stays InProgress (default 1000)
 *   "credentials": {                  // optional: the "execution role" credentials every environment gets;
 *     "accessKeyId": "modelpin",      //   default: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of this process
 *     "secretAccessKey": "modelpin-secret"
 *   },
 *   "functions": [{
 *     "name": "modelpin-inference",
 *     "bundlePath": "dist/lambda/index.mjs",   // absolute, or relative to the config file
 *     "handler": "index.handler",              // export name, or Lambda's file.export form
 *     "environment": { "MODEL_BUCKET": "modelpin-models" },
 *     "memoryMb": 1024,                        // optional, default 128
 *     "timeoutSeconds": 30,                    // optional, default 3
 *     "maxConcurrency": 4                      // optional, default 10
 *   }]
 * }
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createLogger } from '../logging.js'
import { startLambdaRuntime, type LambdaRuntimeOptions, type LocalFunctionConfig } from './lambda-runtime/index.js'

const logger = createLogger('lambda-runtime')

function fail (message: string): never {
  throw new Error(`lambda runtime config: ${message}`)
}

function optionalNumber (value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`"${field}" must be a number, got ${JSON.stringify(value)}`)
  return value
}

function requiredString (value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') fail(`"${field}" must be a non-empty string`)
  return value
}

/** Reads and validates the config file; every message names the field that is wrong. */
export function readRuntimeConfig (path: string, env: NodeJS.ProcessEnv = process.env): Omit<LambdaRuntimeOptions, 'logger'> {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    fail(`cannot read ${path}: ${(error as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null) fail(`${path} must hold a JSON object`)
  const config = raw as Record<string, unknown>
  if (!Array.isArray(config.functions) || config.functions.length === 0) fail('"functions" must be a non-empty array')
  const functions = config.functions.map((entry: unknown, i): LocalFunctionConfig => {
    if (typeof entry !== 'object' || entry === null) fail(`functions[${i}] must be an object`)
    const fn = entry as Record<string, unknown>
    const environment = fn.environment ?? {}
    if (typeof environment !== 'object' || environment === null || Object.values(environment).some((v) => typeof v !== 'string')) {
      fail(`functions[${i}].environment must be an object of strings`)
    }
    const memoryMb = optionalNumber(fn.memoryMb, `functions[${i}].memoryMb`)
    const timeoutSeconds = optionalNumber(fn.timeoutSeconds, `functions[${i}].timeoutSeconds`)
    const maxConcurrency = optionalNumber(fn.maxConcurrency, `functions[${i}].maxConcurrency`)
    return {
      name: requiredString(fn.name, `functions[${i}].name`),
      bundlePath: resolve(dirname(path), requiredString(fn.bundlePath, `functions[${i}].bundlePath`)),
      handler: requiredString(fn.handler, `functions[${i}].handler`),
      environment: environment as Record<string, string>,
      ...(memoryMb === undefined ? {} : { memoryMb }),
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
      ...(maxConcurrency === undefined ? {} : { maxConcurrency }),
    }
  })
  let credentials: LambdaRuntimeOptions['credentials']
  if (config.credentials !== undefined) {
    const c = config.credentials as Record<string, unknown>
    credentials = { accessKeyId: requiredString(c.accessKeyId, 'credentials.accessKeyId'), secretAccessKey: requiredString(c.secretAccessKey, 'credentials.secretAccessKey') }
  } else if (env.AWS_ACCESS_KEY_ID !== undefined && env.AWS_SECRET_ACCESS_KEY !== undefined) {
    credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN === undefined ? {} : { sessionToken: env.AWS_SESSION_TOKEN }) }
  }
  const port = optionalNumber(config.port, 'port')
  const cloudwatchPort = optionalNumber(config.cloudwatchPort, 'cloudwatchPort')
  const seed = optionalNumber(config.seed, 'seed')
  const idleTimeoutMs = optionalNumber(config.idleTimeoutMs, 'idleTimeoutMs')
  const statePath = config.statePath === undefined ? undefined : resolve(dirname(path), requiredString(config.statePath, 'statePath'))
  const updateDelayMs = optionalNumber(config.updateDelayMs, 'updateDelayMs')
  return {
    functions,
    ...(config.host === undefined ? {} : { host: requiredString(config.host, 'host') }),
    ...(port === undefined ? {} : { port }),
    ...(cloudwatchPort === undefined ? {} : { cloudwatchPort }),
    ...(config.region === undefined ? {} : { region: requiredString(config.region, 'region') }),
    ...(seed === undefined ? {} : { seed }),
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    ...(statePath === undefined ? {} : { statePath }),
    ...(updateDelayMs === undefined ? {} : { updateDelayMs }),
    ...(credentials === undefined ? {} : { credentials }),
  }
}

async function main (): Promise<void> {
  const path = process.argv[2] ?? process.env.LAMBDA_RUNTIME_CONFIG
  if (path === undefined) fail('give the config file as the first argument or in LAMBDA_RUNTIME_CONFIG')
  const runtime = await startLambdaRuntime({ ...readRuntimeConfig(resolve(path)), logger })
  logger.info({ url: runtime.url }, `lambda runtime listening on ${runtime.url}`)
  if (runtime.cloudwatchUrl !== '') logger.info({ url: runtime.cloudwatchUrl }, `CloudWatch GetMetricData on ${runtime.cloudwatchUrl}`)
  const stop = (signal: string): void => {
    logger.info({ signal }, 'stopping the lambda runtime')
    runtime.close().then(() => process.exit(0), (error: unknown) => {
      logger.error({ err: error }, 'failed to stop cleanly')
      process.exit(1)
    })
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

// run only as the entry point, so that tests can import readRuntimeConfig
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error: unknown) => {
    logger.fatal({ err: error }, (error as Error).message)
    process.exitCode = 1
  })
}
