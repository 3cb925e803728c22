import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import {
  CreateBucketCommand, GetObjectCommand, NoSuchKey, PutBucketNotificationConfigurationCommand,
  PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3'
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns'
import type { Logger } from 'pino'
import { createS3Client, type S3Settings } from '../aws/s3-client.js'
import { createLambdaClient, LambdaDeployer } from '../deploy/lambda-deployer.js'
import { loadApiConfig } from '../api/config.js'
import { startApiServer, type ApiServer } from '../api/server.js'
import { startLambdaRuntime, type LambdaRuntime } from './lambda-runtime/index.js'
import { PREFAULT_GLIBC_TUNABLES } from '../inference/memory-prefault.js'
import { generateModelSet } from './demo-models/model-set.js'
import { buildLambda, DEFAULT_OUTFILE } from './lambda-bundle.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '../..')

/** The local stack's defaults (DESIGN.md, "Local stack"); each is overridable through `StackOptions`. */
export const STACK_DEFAULTS = {
  host: '127.0.0.1',
  s3Port: 7480,
  lambdaPort: 9001,
  apiPort: 3000,
  dataDir: '.modelpin',
  s3Credentials: { accessKeyId: 'modelpin', secretAccessKey: 'modelpin-secret' },
  region: 'us-east-1',
  buckets: { input: 'modelpin-input', models: 'modelpin-models', output: 'modelpin-output' },
  functionName: 'modelpin-inference',
  functionAlias: 'live',
  model: 'resnet50',
  deployAlias: 'production',
} as const

/** The stack's environment variables (the README's "Local stack" table). */
export const STACK_ENVIRONMENT = [
  { name: 'MODELPIN_S3_PORT', default: String(STACK_DEFAULTS.s3Port), description: 'port of radosgw (started by the stack when nothing answers there)' },
  { name: 'MODELPIN_LAMBDA_PORT', default: String(STACK_DEFAULTS.lambdaPort), description: 'port of the local Lambda runtime' },
  { name: 'MODELPIN_API_PORT', default: String(STACK_DEFAULTS.apiPort), description: 'port of the admin API' },
  { name: 'MODELPIN_DATA_DIR', default: STACK_DEFAULTS.dataDir, description: 'registry database, admin token, stack.json, bundle and generated models' },
  { name: 'MODELPIN_ADMIN_TOKEN', default: '(generated once, kept in <data dir>/admin-token)', description: 'admin token to use instead' },
  { name: 'MODELPIN_DEMO_MODEL', default: 'resnet50', description: '`resnet50` (100 MB, the real architecture) or `tiny` (a small ResNet, for a quick look)' },
] as const

export interface StackOptions {
  dataDir: string
  host: string
  /** radosgw's port; the stack starts radosgw there when nothing answers (and stops it on close) */
  s3Port: number
  lambdaPort: number
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
    apiPort: 0,
    buckets: { input: `${prefix}in-${suffix}`, models: `${prefix}models-${suffix}`, output: `${prefix}out-${suffix}` },
    functionName: STACK_DEFAULTS.functionName,
    functionAlias: STACK_DEFAULTS.functionAlias,
    model: STACK_DEFAULTS.model,
  }
}

/** What `.modelpin/stack.json` holds: everything a client needs to reach the running stack. */
export interface StackInfo {
  endpoints: { api: string, lambda: string, s3: string }
  credentials: { accessKeyId: string, secretAccessKey: string, region: string }
  adminTokenFile: string
  function: { name: string, alias: string }
  buckets: { input: string, models: string, output: string }
  model: { name: string, deployAlias: string, weightsKey: string, labelsKey: string, kind: string }
  pid: number
  startedAt: string
}

export interface Stack {
  info: StackInfo
  token: string
  api: ApiServer
  runtime: LambdaRuntime
  s3: S3Client
  /** what happened to the registry at start: kept, created, or reset because S3 started empty */
  registry: 'kept' | 'created' | 'reset'
  /** stops what this stack started, in reverse order, and nothing else */
  close (): Promise<void>
}

/**
 * Starts the whole system on this machine: radosgw (if nothing answers on its port), the buckets and the input
 * bucket's notification, the handler bundle in the local Lambda runtime, the admin API on SQLite, and the demo model
 * with two releases and the deploy alias on release 1 pushed to the function. Everything it starts is stopped by
 * `close`, in reverse order, also when start-up fails half-way.
 */
export async function startStack (options: StackOptions): Promise<Stack> {
  const { say, logger } = options
  const cleanups: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'a part of the stack did not stop cleanly'))
    }
  }
  try {
    const dataDir = resolve(options.dataDir)
    await mkdir(dataDir, { recursive: true })
    const s3Endpoint = `http://${options.host}:${options.s3Port}`
    const credentials = STACK_DEFAULTS.s3Credentials
    const region = STACK_DEFAULTS.region

    if (await answers(s3Endpoint)) {
      say(`S3: using the radosgw already answering on ${s3Endpoint}`)
    } else {
      say('S3: starting radosgw (installing it first if needed)')
      await localS3(['install', 'start'], options.s3Port)
      cleanups.push(async () => {
        say('S3: stopping radosgw')
        await localS3(['stop'], options.s3Port)
      })
    }
    const s3Settings: S3Settings = { endpoint: s3Endpoint, region, forcePathStyle: true, checksums: 'when_required' }
    const s3 = createS3Client(s3Settings, credentials)
    cleanups.push(async () => { s3.destroy() })
    for (const bucket of Object.values(options.buckets)) await ensureBucket(s3, bucket)
    await s3.send(new PutBucketVersioningCommand({
      Bucket: options.buckets.models, VersioningConfiguration: { Status: 'Enabled' },
    }))

    // radosgw's memstore keeps nothing across a restart: the registry must not remember releases whose S3 versions
    // are gone. A marker object ties this data dir to the S3 contents it was built against.
    const registry = await matchRegistryToS3(s3, options.buckets.models, dataDir, say)

    say('Lambda: building the handler bundle')
    // inside the repo, so that the bundle's external packages (onnxruntime-node, sharp, pino) resolve from node_modules
    const { outfile: bundlePath } = await buildLambda({ outfile: DEFAULT_OUTFILE })

    say(`model: generating the demo ${options.modelKind} (two weights and two labels versions; cached in ${options.modelDir})`)
    let lastProgress = ''
    const files = await generateModelSet({
      kind: options.modelKind,
      outDir: options.modelDir,
      onProgress: (line) => {
        // one line per 25 % is enough to show it moves
        const shown = line.replace(/(\d+)%$/, (_, p: string) => `${Math.floor(Number(p) / 25) * 25}%`)
        if (shown !== lastProgress) say(`model: ${shown}`)
        lastProgress = shown
      },
    })

    const weightsKey = `${options.model}/model.onnx`
    const labelsKey = `${options.model}/labels.txt`
    const runtime = await startLambdaRuntime({
      host: options.host,
      port: options.lambdaPort,
      logger: logger.child({ component: 'lambda-runtime' }),
      credentials,
      region,
      ...(options.routerSeed === undefined ? {} : { seed: options.routerSeed }),
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      functions: [{
        name: options.functionName,
        bundlePath,
        handler: 'index.handler',
        description: 'modelpin inference (local)',
        // the pins themselves arrive with the first promotion
        environment: {
          MODEL_BUCKET: options.buckets.models,
          MODEL_WEIGHTS_KEY: weightsKey,
          MODEL_LABELS_KEY: labelsKey,
          OUTPUT_BUCKET: options.buckets.output,
          AWS_ENDPOINT_URL_S3: s3Endpoint,
          LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
          // what lambda/Dockerfile sets in the image, so cold loads here behave as they do on AWS
          GLIBC_TUNABLES: PREFAULT_GLIBC_TUNABLES,
        },
        // what infra/ gives the function on AWS
        memoryMb: 2048,
        timeoutSeconds: 30,
      }],
    })
    cleanups.push(async () => {
      say('Lambda: stopping the local runtime and its environments')
      await runtime.close()
    })
    say(`Lambda: local runtime on ${runtime.url}, function ${options.functionName}`)

    await notifyFunctionOnUpload(s3Endpoint, credentials, region, s3, options.buckets.input,
      runtime.s3EventsUrl(options.functionName, options.functionAlias))
    say(`S3: ${options.buckets.input} notifies ${options.functionName}:${options.functionAlias} on every upload`)

    const lambda = createLambdaClient({ endpoint: runtime.url, region, credentials })
    cleanups.push(async () => { lambda.destroy() })
    const apiLogger = logger.child({ component: 'api' })
    const config = loadApiConfig({
      LOG_LEVEL: process.env.LOG_LEVEL,
      MODELPIN_API_HOST: options.host,
      MODELPIN_API_PORT: String(options.apiPort),
      MODELPIN_DATA_DIR: dataDir,
      MODELPIN_ADMIN_TOKEN: options.adminToken,
      AWS_ENDPOINT_URL_S3: s3Endpoint,
      AWS_ENDPOINT_URL_LAMBDA: runtime.url,
      AWS_REGION: region,
    })
    const api = await startApiServer(config, {
      logger: apiLogger,
      deployer: new LambdaDeployer({ lambda, logger: apiLogger.child({ component: 'deployer' }) }),
      s3Credentials: credentials,
    })
    cleanups.push(async () => {
      say('API: stopping')
      await api.close()
    })
    const adminTokenFile = join(dataDir, 'admin-token')
    const token = (await readFile(adminTokenFile, 'utf8')).trim()
    say(`API: admin API on ${api.url}`)

    const client = new ApiClient(api.url, token)
    await seedDemoModel(client, {
      model: options.model,
      bucket: options.buckets.models,
      weightsKey,
      labelsKey,
      functionName: options.functionName,
      functionAlias: options.functionAlias,
      files,
    }, say)

    const info: StackInfo = {
      endpoints: { api: api.url, lambda: runtime.url, s3: s3Endpoint },
      credentials: { ...credentials, region },
      adminTokenFile,
      function: { name: options.functionName, alias: options.functionAlias },
      buckets: { ...options.buckets },
      model: { name: options.model, deployAlias: STACK_DEFAULTS.deployAlias, weightsKey, labelsKey, kind: options.modelKind },
      pid: process.pid,
      startedAt: new Date().toISOString(),
    }
    const stackFile = join(dataDir, 'stack.json')
    await writeFile(stackFile, JSON.stringify(info, null, 2) + '\n')
    cleanups.push(async () => { await rm(stackFile, { force: true }) })
    return { info, token, api, runtime, s3, registry, close }
  } catch (error) {
    await close()
    throw error
  }
}

async function answers (url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
    await response.arrayBuffer()
    return true
  } catch {
    return false
  }
}

async function localS3 (commands: string[], port: number): Promise<void> {
  try {
    await run('bash', [join(root, 'scripts/local-s3.sh'), ...commands], {
      env: { ...process.env, MODELPIN_S3_PORT: String(port) },
    })
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    throw new Error(`scripts/local-s3.sh ${commands.join(' ')} failed:\n${stderr.trim()}`, { cause: error })
  }
}

async function ensureBucket (s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  } catch (error) {
    const name = (error as Error).name
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error
  }
}

const MARKER_KEY = '.modelpin-stack-id'

async function matchRegistryToS3 (
  s3: S3Client, bucket: string, dataDir: string, say: (line: string) => void
): Promise<'kept' | 'created' | 'reset'> {
  const markerFile = join(dataDir, 'stack-s3-id')
  const database = join(dataDir, 'registry.db')
  const known = await readFile(markerFile, 'utf8').then((s) => s.trim(), () => undefined)
  let current: string | undefined
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: MARKER_KEY }))
    current = (await object.Body?.transformToString())?.trim()
  } catch (error) {
    if (!(error instanceof NoSuchKey)) throw error
  }
  if (known !== undefined && known === current) return 'kept'

  const hadRegistry = await stat(database).then(() => true, () => false)
  if (hadRegistry) {
    say('registry: S3 started empty (radosgw keeps objects in memory), so the registry is reset to match it; ' +
      'the admin token stays valid')
    for (const suffix of ['', '-wal', '-shm']) await rm(database + suffix, { force: true })
  }
  const id = randomBytes(8).toString('hex')
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: MARKER_KEY, Body: id }))
  await writeFile(markerFile, id + '\n')
  return hadRegistry ? 'reset' : 'created'
}

async function notifyFunctionOnUpload (
  s3Endpoint: string, credentials: { accessKeyId: string, secretAccessKey: string }, region: string,
  s3: S3Client, bucket: string, pushEndpoint: string
): Promise<void> {
  // radosgw delivers bucket notifications through an SNS-compatible topic whose push-endpoint is the runtime's intake.
  // Not persistent: persistent topics deliver seconds late or not at all here (../shared/reference/S3-LOCAL.md).
  const sns = new SNSClient({ endpoint: s3Endpoint, region, credentials })
  try {
    const topic = await sns.send(new CreateTopicCommand({
      Name: `${bucket}-uploads`,
      Attributes: { 'push-endpoint': pushEndpoint, persistent: 'false' },
    }))
    await s3.send(new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        TopicConfigurations: [{ Id: 'modelpin-inference', TopicArn: topic.TopicArn, Events: ['s3:ObjectCreated:*'] }],
      },
    }))
  } finally {
    sns.destroy()
  }
}

interface DemoModel {
  model: string
  bucket: string
  weightsKey: string
  labelsKey: string
  functionName: string
  functionAlias: string
  files: { weights: string[], labels: string[] }
}

/**
 * Registers the demo model through the admin API, as a user would: two weights and two labels versions, releases
 * 1 and 2, and the deploy alias on release 1. On a kept registry it only makes sure Lambda serves the alias again
 * (the local runtime starts empty on every start).
 */
async function seedDemoModel (client: ApiClient, demo: DemoModel, say: (line: string) => void): Promise<void> {
  const path = `/v1/models/${demo.model}`
  const existing = await client.request('GET', path, undefined, [200, 404])
  if (existing.status === 404) {
    await client.request('POST', '/v1/models', {
      name: demo.model,
      bucket: demo.bucket,
      weightsKey: demo.weightsKey,
      labelsKey: demo.labelsKey,
      functionName: demo.functionName,
      functionAlias: demo.functionAlias,
      deployAlias: STACK_DEFAULTS.deployAlias,
    })
    const versions: { weights: string[], labels: string[] } = { weights: [], labels: [] }
    for (const kind of ['weights', 'labels'] as const) {
      for (const [i, file] of demo.files[kind].entries()) {
        say(`model: uploading ${kind} v${i + 1} (${formatBytes((await stat(file)).size)})`)
        const uploaded = await client.upload(`${path}/artifacts/${kind}`, file)
        versions[kind].push(uploaded.versionId)
      }
    }
    for (const i of [0, 1]) {
      const release = await client.request('POST', `${path}/releases`, {
        weightsVersionId: versions.weights[i], labelsVersionId: versions.labels[i], notes: `demo v${i + 1}`,
      })
      say(`registry: release ${(release.body as { number: number }).number} = weights v${i + 1} + labels v${i + 1}`)
    }
    say(`registry: promoting release 1 to ${STACK_DEFAULTS.deployAlias} (publishes a Lambda version, moves ${demo.functionAlias})`)
    await client.request('POST', `${path}/aliases/${STACK_DEFAULTS.deployAlias}/promote`, {
      release: 1, reason: 'local stack: demo model',
    })
    return
  }

  const alias = await client.request('GET', `${path}/aliases/${STACK_DEFAULTS.deployAlias}`, undefined, [200, 404])
  if (alias.status === 404) return
  const view = alias.body as { release: number, live: unknown }
  if (view.live === null) {
    say(`registry: kept; pushing ${STACK_DEFAULTS.deployAlias} (release ${view.release}) to the fresh Lambda runtime`)
    await client.request('POST', `${path}/aliases/${STACK_DEFAULTS.deployAlias}/promote`, {
      release: view.release, reason: 'local stack restart: the local Lambda runtime starts empty',
    })
  }
}

/** The few admin API calls the stack makes (and its tests reuse), with errors that say which call failed. */
export class ApiClient {
  constructor (readonly url: string, readonly token: string) {}

  async request (method: string, path: string, body?: unknown, expect: number[] = [200, 201]): Promise<{ status: number, body: unknown }> {
    const response = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!expect.includes(response.status)) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
    return { status: response.status, body: text === '' ? null : JSON.parse(text) }
  }

  async upload (path: string, file: string): Promise<{ versionId: string }> {
    const { size } = await stat(file)
    const response = await fetch(this.url + path, {
      method: 'PUT',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body: createReadStream(file) as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit)
    const text = await response.text()
    if (response.status !== 201) throw new Error(`PUT ${path} answered ${response.status}: ${text}`)
    return JSON.parse(text) as { versionId: string }
  }
}

function formatBytes (bytes: number): string {
  return bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`
}
