import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { PutBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3'
import { createS3Client, type S3Settings } from '../aws/s3-client.js'
import { CloudWatchStepMetrics, createCloudWatchClient } from '../deploy/cloudwatch-metrics.js'
import { createLambdaClient, LambdaDeployer } from '../deploy/lambda-deployer.js'
import { loadApiConfig } from '../api/config.js'
import { startApiServer, type ApiServer } from '../api/server.js'
import { PREFAULT_GLIBC_TUNABLES } from '../inference/memory-prefault.js'
import { AdminApiClient } from '../client/admin-api.js'
import { seedDemoModel } from './demo-seed.js'
import { generateModelSet } from './demo-models/model-set.js'
import { buildLambda, DEFAULT_OUTFILE } from './lambda-bundle.js'
import { startLambdaRuntime, type LambdaRuntime } from './lambda-runtime/index.js'
import { STACK_DEFAULTS, type StackOptions } from './stack-options.js'
import { answers, ensureBucket, localS3, matchRegistryToS3, notifyFunctionOnUpload, storeGatewayRunning } from './stack-s3.js'

export { STACK_DEFAULTS, STACK_ENVIRONMENT, sideBySideStackOptions, type StackOptions } from './stack-options.js'

/** What `.modelpin/stack.json` holds: everything a client needs to reach the running stack. */
export interface StackInfo {
  endpoints: { api: string, lambda: string, s3: string, cloudwatch: string }
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
 * Starts the whole system on this machine: radosgw on its on-disk store in the data dir (if nothing else answers on
 * its port), the buckets and the input bucket's notification, the handler bundle in the local Lambda runtime (its
 * functions, versions and aliases kept in the data dir), the admin API on SQLite, and the demo model with two
 * releases and the deploy alias on release 1 pushed to the function. A restart on the same data dir keeps all of it
 * and moves nothing. Everything it starts is stopped by `close`, in reverse order, also when start-up fails half-way.
 */
export async function startStack (options: StackOptions): Promise<Stack> {
  const { say, logger } = options
  const cleanups: Array<() => Promise<void>> = []
  const close = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.warn({ err: error }, 'a part of the stack did not stop cleanly'))
    }
  }
  // the bundle and the demo model files need nothing else: they are made while radosgw starts
  const preparing = prepareCode(options)
  // awaited below; a failure before then must not count as an unhandled rejection
  preparing.catch(() => {})
  try {
    const dataDir = resolve(options.dataDir)
    await mkdir(dataDir, { recursive: true })
    const s3Endpoint = `http://${options.host}:${options.s3Port}`
    const credentials = STACK_DEFAULTS.s3Credentials
    const region = STACK_DEFAULTS.region

    const storeDir = join(dataDir, 's3')
    const startStore = async (): Promise<void> => {
      cleanups.push(async () => {
        say('S3: stopping radosgw (its store stays in the data dir)')
        await localS3(['stop'], options.s3Port, storeDir)
      })
      const said = await localS3(['install', 'start'], options.s3Port, storeDir)
      say(/creating an EMPTY/.test(said)
        ? `S3: no store in ${storeDir} (first start, or wiped): radosgw starts on a new, empty one`
        : `S3: radosgw keeps its objects in ${storeDir}`)
    }
    if (await storeGatewayRunning(storeDir)) {
      say(`S3: the radosgw of ${storeDir} is still running (the stack that started it did not stop it): restarting it`)
      await startStore()
    } else if (await answers(s3Endpoint)) {
      say(`S3: using the radosgw already answering on ${s3Endpoint} (not started here: it keeps objects only as long as it does)`)
    } else {
      say('S3: starting radosgw (installing it first if needed)')
      await startStore()
    }
    const s3Settings: S3Settings = { endpoint: s3Endpoint, region, forcePathStyle: true, checksums: 'when_required' }
    const s3 = createS3Client(s3Settings, credentials)
    cleanups.push(async () => { s3.destroy() })
    for (const bucket of Object.values(options.buckets)) await ensureBucket(s3, bucket)
    await s3.send(new PutBucketVersioningCommand({
      Bucket: options.buckets.models, VersioningConfiguration: { Status: 'Enabled' },
    }))

    // A new or wiped store (or another radosgw) holds none of the registry's S3 versions: the registry must not
    // remember them. A marker object ties this data dir to the S3 contents it was built against.
    const registry = await matchRegistryToS3(s3, options.buckets.models, dataDir, say)
    // the runtime's versions carry the pins of the registry's releases: they start anew with it
    const runtimeStatePath = join(dataDir, 'lambda-runtime.json')
    if (registry !== 'kept' && await stat(runtimeStatePath).then(() => true, () => false)) {
      say('Lambda: the registry starts anew, so the local runtime\'s saved functions, versions and aliases are dropped')
      await rm(runtimeStatePath)
    }

    const { bundlePath, files } = await preparing

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
      statePath: runtimeStatePath,
      cloudwatchPort: options.cloudwatchPort ?? STACK_DEFAULTS.cloudwatchPort,
      updateDelayMs: options.lambdaUpdateMs ?? STACK_DEFAULTS.lambdaUpdateMs,
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
    say(`Lambda: local runtime on ${runtime.url}, function ${options.functionName}; ` + (runtime.controlPlane === 'restored'
      ? `its versions and aliases are those kept in ${runtimeStatePath}`
      : `no saved state in ${runtimeStatePath}: it starts empty`))

    await notifyFunctionOnUpload(s3Endpoint, credentials, region, s3, options.buckets.input,
      runtime.s3EventsUrl(options.functionName, options.functionAlias))
    say(`S3: ${options.buckets.input} notifies ${options.functionName}:${options.functionAlias} on every upload`)

    const lambda = createLambdaClient({ endpoint: runtime.url, region, credentials })
    cleanups.push(async () => { lambda.destroy() })
    const cloudwatch = createCloudWatchClient({ endpoint: runtime.cloudwatchUrl, region, credentials })
    cleanups.push(async () => { cloudwatch.destroy() })
    const apiLogger = logger.child({ component: 'api' })
    const config = loadApiConfig({
      LOG_LEVEL: process.env.LOG_LEVEL,
      MODELPIN_API_HOST: options.host,
      MODELPIN_API_PORT: String(options.apiPort),
      MODELPIN_DATA_DIR: dataDir,
      MODELPIN_ADMIN_TOKEN: options.adminToken,
      AWS_ENDPOINT_URL_S3: s3Endpoint,
      AWS_ENDPOINT_URL_LAMBDA: runtime.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: runtime.cloudwatchUrl,
      AWS_REGION: region,
      // the local runtime's metrics are there at once: rollout steps of a few seconds (AWS: 60 and 180)
      MODELPIN_METRICS_PERIOD_SECONDS: '1',
      MODELPIN_METRICS_DELAY_SECONDS: '1',
    })
    const api = await startApiServer(config, {
      logger: apiLogger,
      deployer: new LambdaDeployer({ lambda, logger: apiLogger.child({ component: 'deployer' }) }),
      metrics: new CloudWatchStepMetrics(cloudwatch, config.metricsPeriodSeconds),
      s3Credentials: credentials,
    })
    cleanups.push(async () => {
      say('API: stopping')
      await api.close()
    })
    const adminTokenFile = join(dataDir, 'admin-token')
    const token = (await readFile(adminTokenFile, 'utf8')).trim()
    say(`API: admin API on ${api.url}`)

    const client = new AdminApiClient({ baseUrl: api.url, token })
    await seedDemoModel(client, {
      model: options.model,
      bucket: options.buckets.models,
      weightsKey,
      labelsKey,
      functionName: options.functionName,
      functionAlias: options.functionAlias,
      prewarm: options.demoPrewarm,
      files,
    }, say)

    const info: StackInfo = {
      endpoints: { api: api.url, lambda: runtime.url, s3: s3Endpoint, cloudwatch: runtime.cloudwatchUrl },
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
    await preparing.catch(() => {})
    throw error
  }
}

/** Builds the handler bundle and generates (or finds cached) the demo model files. */
async function prepareCode (options: StackOptions): Promise<{ bundlePath: string, files: { weights: string[], labels: string[] } }> {
  const { say } = options
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
  return { bundlePath, files }
}
