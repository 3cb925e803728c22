import { randomBytes } from 'node:crypto'
import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { pino } from 'pino'
import { adminApi, type Answer } from './admin-api.js'
import { startApiProcess, type ApiProcess, type ApiProcessOptions } from './api-process.js'
import { startFaultProxy, type FaultProxy } from './fault-proxy.js'
import { handlerPath, startTestRuntime } from './lambda-runtime.js'
import { createTestDatabase } from './pg.js'
import { createTestBucket, testS3Client } from './s3.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Lambda paths of the test function `fn` and its alias `live`, for fault-proxy rules. */
export const ALIAS_PATH = /^\/2015-03-31\/functions\/fn\/aliases(\/live)?$/
export const MODEL_ALIAS = '/v1/models/m/aliases/production'

/** One API process of a world, with its own fault proxy in front of the shared Lambda runtime. */
export interface WorldApi {
  process: ApiProcess
  proxy: FaultProxy
  api: ReturnType<typeof adminApi>
}

/**
 * Several API processes on one registry database and one local Lambda runtime (function `fn`), each reaching Lambda
 * through its own fault proxy; model `m` with `releases` releases on a fresh bucket, its deploy alias driving
 * `fn:live`. Short lock TTL and reconcile interval (`env` may change them). The function runs `handler` (a file of
 * test/fixtures/handlers; default echo.mjs).
 */
export async function startMoveWorld (t: Teardown, options: { database: 'sqlite' | 'postgres', env?: Record<string, string>, handler?: string }) {
  const { runtime, lambda: direct } = await startTestRuntime(t, {
    functions: [{ name: 'fn', bundlePath: handlerPath(options.handler ?? 'echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    // the runtime's CloudWatch subset, for the rollouts of a world's API processes (AWS_ENDPOINT_URL_CLOUDWATCH)
    cloudwatchPort: 0,
    // Worlds send traffic that fails on purpose (thousands of function errors, each an error line of over a KB):
    // written to the test's stderr they filled the pipe to tap, and the test process, done with its tests, never
    // exited while pino kept retrying the write. The runtime's own lines are not what these tests read (they read the
    // API processes' logs); LOG_LEVEL brings them back when debugging.
    logger: pino({ name: 'lambda-runtime', level: process.env.LOG_LEVEL ?? 'fatal' }, pino.destination(2)),
  })
  const databaseUrl = options.database === 'postgres' ? await createTestDatabase(t) : undefined
  const adminToken = `test-${randomBytes(16).toString('hex')}`
  const env = { MODELPIN_LOCK_TTL_SECONDS: '3', MODELPIN_RECONCILE_SECONDS: '1', ...options.env }
  const s3 = testS3Client()
  t.teardown(() => { s3.destroy() })
  const bucket = await createTestBucket(t, s3)

  /** Starts an API process (on the world's database; with `dataDir`, a restart on that SQLite data) behind a new proxy. */
  const startApi = async (more: ApiProcessOptions = {}): Promise<WorldApi> => {
    const proxy = await startFaultProxy(t, runtime.url)
    const process = await startApiProcess(t, { databaseUrl, adminToken, lambdaEndpoint: proxy.url, ...more, env: { ...env, ...more.env } })
    return { process, proxy, api: adminApi(process.url, adminToken) }
  }

  /** Registers model `m` with `count` releases through `api` (`fields` add to its registration). */
  const registerModel = async (api: WorldApi['api'], count: number, fields: Record<string, unknown> = {}): Promise<void> => {
    ok(await api.post('/v1/models', { name: 'm', bucket, weightsKey: 'm/model.onnx', labelsKey: 'm/labels.txt', functionName: 'fn', functionAlias: 'live', ...fields }))
    const labels = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm/labels.txt', Body: 'cat\ndog\n' }))
    for (let n = 1; n <= count; n++) {
      const weights = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm/model.onnx', Body: `weights of release ${n}` }))
      ok(await api.post('/v1/models/m/releases', { weightsVersionId: weights.VersionId, labelsVersionId: labels.VersionId }))
    }
  }

  /** The Lambda version `fn:live` serves, read directly from the runtime. */
  const lambdaVersion = async (): Promise<string | undefined> =>
    (await direct.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))).FunctionVersion

  return { runtime, direct: direct as LambdaClient, databaseUrl, adminToken, bucket, startApi, registerModel, lambdaVersion }
}

function ok (answer: Answer): void {
  if (answer.status >= 300) throw new Error(`set-up call answered ${answer.status}: ${JSON.stringify(answer.body)}`)
}

/** Polls `check` until it answers a value; the limit only turns a hang into a failure. */
export async function waitFor<T> (check: () => Promise<T | undefined>, limitMs = 60_000): Promise<T> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`not there within ${limitMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
