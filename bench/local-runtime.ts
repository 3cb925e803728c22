/**
 * One image (the 500x375 benchmark JPEG, read from S3) through the local Lambda runtime on the full-size ResNet-50,
 * with the local stack as `npm start` runs it (temporary data dir, unique buckets, free ports, the running radosgw).
 *
 * - `cold_start_ms`: a synchronous Invoke (SDK call to answer) that lands in a NEW execution environment: process
 *   start, bundle import, model download and session creation, then the image. Each cold start is forced by
 *   changing `$LATEST`'s configuration (a variable the handler does not read), which retires its idle environment
 *   as Lambda does; median of COLD_STARTS. These run in a second instance of the local runtime that serves two
 *   functions with the environment (pins, endpoint, GLIBC_TUNABLES) of the version `live` runs: the product's bundle
 *   and the naive handler's (bench/lib/naive-handler.ts, built the same way), cold starts alternating between them.
 * - `cold_start_ratio_vs_naive`: median cold start of the product / of the naive handler; `cold_start_spread`: the
 *   product's slowest cold start / its median. `cold_start_floor_ms`: radosgw's own time to serve the weights (one
 *   raw GetObject, bytes counted and dropped, no hash, no session) measured in this process just before each cold
 *   start pair; `cold_start_over_floor` = `cold_start_ms` / it.
 * - `warm_ms`: the same Invoke on the alias `live` when its environment is warm (model cached); median.
 * - `runtime_overhead_ratio`: warm Invoke through the runtime / the same handler (`createHandler` with the very
 *   environment of the version `live` runs) called in this process with the same event, timed the same way (call to
 *   answer, plus the JSON serialisation Lambda does). The two are interleaved, alternating which goes first, so the
 *   machine's noise falls on both; medians. Also `runtime_overhead_ms`: per warm Invoke, the SDK call's time minus
 *   the handler's own `timings.totalMs` (SDK, HTTP, routing, the pipe to the environment, JSON both ways).
 *
 *   npx tsx bench/local-runtime.ts
 */
import { randomUUID } from 'node:crypto'
import { resolve } from 'node:path'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import {
  GetAliasCommand, GetFunctionConfigurationCommand, InvokeCommand, UpdateFunctionConfigurationCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda'
import { pino } from 'pino'
import { readConfig } from '../lambda/config.js'
import { createHandler, functionS3Client, type Classification } from '../lambda/handler.js'
import { DEFAULT_OUTFILE, buildLambda } from '../src/local/lambda-bundle.js'
import { startLambdaRuntime, type InvocationRecord, type LambdaRuntime } from '../src/local/lambda-runtime/index.js'
import { startBenchStack } from './lib/local-stack.js'
import { median, percentile, round } from './lib/stats.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

type Figures = Record<string, number | string>

/** Per handler, alternating product and naive; each about 1 to 4 s here (mostly the 100 MB model). */
const COLD_STARTS = 8
const root = resolve(fileURLToPath(import.meta.url), '../..')
const NAIVE_BUNDLE = resolve(root, 'dist/bench-naive/index.mjs')
/** Interleaved pairs (runtime, in-process) after WARMUP of each: about 100 ms a pair. */
const WARM_PAIRS = 60
const WARMUP = 5

export default async function run (): Promise<Figures> {
  const log = (message: string): void => console.log(`  [local-runtime] ${message}`)
  const bench = await startBenchStack((line) => log(`stack: ${line}`))
  try {
    const { stack, lambda, image } = bench
    const functionName = stack.info.function.name
    const event = { image }
    const invokeTimed = async (qualifier: string): Promise<{ ms: number, body: Classification, version: string }> => {
      const started = performance.now()
      const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Qualifier: qualifier, Payload: Buffer.from(JSON.stringify(event)) }))
      const ms = performance.now() - started
      const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8')
      if (response.FunctionError !== undefined) throw new Error(`the function failed on ${qualifier}: ${text}`)
      return { ms, body: JSON.parse(text) as Classification, version: response.ExecutedVersion ?? '?' }
    }

    // The in-process handler: the same factory the bundle calls, with the environment of the version `live` runs.
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: stack.info.function.alias }))
    const liveConfig = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: alias.FunctionVersion }))
    const env: Record<string, string> = { ...liveConfig.Environment?.Variables, AWS_REGION: stack.info.credentials.region }
    const { accessKeyId, secretAccessKey } = stack.info.credentials
    const s3 = functionS3Client(env, { accessKeyId, secretAccessKey })
    // Same log level as the environments; the lines go nowhere instead of through the runtime's pipe.
    const logger = pino({ level: env.LOG_LEVEL ?? 'info' }, pino.destination({ dest: '/dev/null', sync: true }))
    const handler = createHandler(readConfig(env), { s3, logger })
    const inProcess = async (): Promise<{ ms: number, body: Classification }> => {
      const started = performance.now()
      const body = await handler(event, { awsRequestId: randomUUID(), functionName }) as Classification
      JSON.stringify(body)
      return { ms: performance.now() - started, body }
    }

    log(`warm: ${WARMUP} warm-up calls each, then ${WARM_PAIRS} interleaved pairs (runtime alias ${stack.info.function.alias}, in-process)`)
    for (let i = 0; i < WARMUP; i++) {
      await invokeTimed(stack.info.function.alias)
      await inProcess()
    }
    const warm: number[] = []
    const local: number[] = []
    // what the runtime adds around the handler: the SDK call's time minus the handler's own total (same request)
    const around: number[] = []
    const environments = new Set<string>()
    for (let i = 0; i < WARM_PAIRS; i++) {
      const viaRuntime = async (): Promise<void> => {
        const out = await invokeTimed(stack.info.function.alias)
        if (out.body.environment.coldStart || out.body.cache.loads !== 1) throw new Error(`warm invocation ${i} was not warm`)
        environments.add(out.body.environment.id)
        warm.push(out.ms)
        around.push(out.ms - out.body.timings.totalMs)
      }
      const direct = async (): Promise<void> => { local.push((await inProcess()).ms) }
      if (i % 2 === 0) { await viaRuntime(); await direct() } else { await direct(); await viaRuntime() }
    }
    s3.destroy()
    log(`warm: runtime ${round(median(warm), 1)} ms (p90 ${round(percentile(warm, 90), 1)}) in ${environments.size} environment(s), ` +
      `in-process ${round(median(local), 1)} ms (p90 ${round(percentile(local, 90), 1)}); around the handler ${round(median(around), 1)} ms`)

    const sample = await invokeTimed(stack.info.function.alias)

    log(`cold: ${COLD_STARTS} cold starts each of the product and the naive handler, alternating, in a runtime of their own`)
    const cold = await coldStarts(bench.s3, env, image, stack.info.credentials, log)
    const product = cold.product.map((c) => c.ms)
    const naive = cold.naive.map((c) => c.ms)
    return {
      cold_start_ratio_vs_naive: median(product) / median(naive),
      cold_start_spread: Math.max(...product) / median(product),
      cold_start_ms: median(product),
      cold_start_max_ms: Math.max(...product),
      cold_start_init_ms: median(cold.product.map((c) => c.initMs)),
      cold_start_model_load_ms: median(cold.product.map((c) => c.modelMs)),
      cold_start_naive_ms: median(naive),
      cold_start_naive_max_ms: Math.max(...naive),
      cold_start_naive_init_ms: median(cold.naive.map((c) => c.initMs)),
      cold_start_naive_model_load_ms: median(cold.naive.map((c) => c.modelMs)),
      cold_start_floor_ms: median(cold.floor),
      cold_start_first_ms: cold.firstMs,
      cold_start_over_floor: median(product) / median(cold.floor),
      warm_ms: median(warm),
      warm_in_process_ms: median(local),
      runtime_overhead_ratio: median(warm) / median(local),
      runtime_overhead_ms: median(around),
      local_runtime_method: `cold: ${COLD_STARTS} Invokes each of the product's and the naive handler's $LATEST after a ` +
        'configuration change (new environment each), alternating, in a second local runtime; floor: raw GetObject of the weights; ' +
        `warm: ${WARM_PAIRS} Invokes of ${stack.info.function.alias} interleaved with the handler in-process; medians; ` +
        `top label "${sample.body.predictions[0]?.label ?? '?'}"`,
    }
  } finally {
    await bench.close()
  }
}

interface ColdStart { ms: number, initMs: number, modelMs: number }

/**
 * Alternating cold starts of the product's bundle and the naive one, each function in the same second runtime with
 * the same environment (`env`: the variables of the version `live` runs), and before each pair the floor: one raw
 * GetObject of the pinned weights.
 */
async function coldStarts (
  s3: S3Client, env: Record<string, string>, image: { bucket: string, key: string }, credentials: { accessKeyId: string, secretAccessKey: string, region: string },
  log: (message: string) => void
): Promise<{ product: ColdStart[], naive: ColdStart[], floor: number[], firstMs: number }> {
  await buildLambda({ outfile: NAIVE_BUNDLE, entryPoint: resolve(root, 'bench/lib/naive-handler.ts') })
  const names = { product: 'bench-cold-product', naive: 'bench-cold-naive' } as const
  const functionEnv = { ...env }
  delete functionEnv.AWS_REGION
  const runtime = await startLambdaRuntime({
    port: 0,
    logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }, pino.destination(2)),
    region: credentials.region,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    updateDelayMs: 0,
    functions: [
      { name: names.product, bundlePath: DEFAULT_OUTFILE, handler: 'index.handler', environment: functionEnv, memoryMb: 2048, timeoutSeconds: 60 },
      { name: names.naive, bundlePath: NAIVE_BUNDLE, handler: 'index.handler', environment: functionEnv, memoryMb: 2048, timeoutSeconds: 60 },
    ],
  })
  const lambda = new LambdaClient({ endpoint: runtime.url, region: credentials.region, credentials, maxAttempts: 1 })
  const event = Buffer.from(JSON.stringify({ image }))
  const result = { product: [] as ColdStart[], naive: [] as ColdStart[], floor: [] as number[], firstMs: Number.NaN }
  try {
    // Not counted: a first cold start of the product, which writes the derived optimised graph if no earlier load of
    // this version on this machine did (on AWS, the warm-up of the move that publishes a version does it).
    await changeLatest(lambda, names.product, { BENCH_COLD_START: 'first' })
    const firstStarted = performance.now()
    const first = await lambda.send(new InvokeCommand({ FunctionName: names.product, Payload: event }))
    if (first.FunctionError !== undefined) throw new Error(`the product handler failed: ${Buffer.from(first.Payload ?? new Uint8Array()).toString('utf8')}`)
    result.firstMs = performance.now() - firstStarted
    log(`cold 0 product (not counted, makes the graph if there is none): ${round(result.firstMs, 0)} ms`)
    for (let i = 0; i < COLD_STARTS; i++) {
      result.floor.push(await rawGetMs(s3, env))
      const order = i % 2 === 0 ? (['product', 'naive'] as const) : (['naive', 'product'] as const)
      for (const kind of order) {
        const functionName = names[kind]
        await changeLatest(lambda, functionName, { BENCH_COLD_START: String(i) })
        const recorded = nextInvocation(runtime, (r) => r.functionName === functionName)
        const started = performance.now()
        const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, Payload: event }))
        const ms = performance.now() - started
        const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8')
        if (response.FunctionError !== undefined) throw new Error(`the ${kind} handler failed: ${text}`)
        const body = JSON.parse(text) as Classification
        const record = await recorded
        if (!body.environment.coldStart || !record.coldStart || body.cache.loads !== 1) {
          throw new Error(`${kind} cold start ${i} was not one: ${JSON.stringify({ environment: body.environment, cache: body.cache })}`)
        }
        const initMs = record.initDurationMs ?? Number.NaN
        result[kind].push({ ms, initMs, modelMs: body.timings.modelMs })
        log(`cold ${i + 1} ${kind}: ${round(ms, 0)} ms (init ${round(initMs, 0)} ms, model wait in the request ${round(body.timings.modelMs, 0)} ms)`)
      }
      log(`floor ${i + 1}: ${round(result.floor.at(-1)!, 0)} ms`)
    }
  } finally {
    lambda.destroy()
    await runtime.close()
  }
  return result
}

/** One GetObject of the pinned weights, body counted and dropped: what radosgw alone takes to serve them. */
async function rawGetMs (s3: S3Client, env: Record<string, string>): Promise<number> {
  const started = performance.now()
  const response = await s3.send(new GetObjectCommand({ Bucket: env.MODEL_BUCKET, Key: env.MODEL_WEIGHTS_KEY, VersionId: env.MODEL_WEIGHTS_VERSION_ID }))
  let bytes = 0
  // 'data' events, as the loader reads: the async iterator's promise per chunk would make the floor slower
  const body = response.Body as Readable
  await new Promise<void>((resolve, reject) => {
    body.on('data', (chunk: Buffer) => { bytes += chunk.byteLength })
    body.once('end', resolve)
    body.once('error', reject)
  })
  if (bytes !== response.ContentLength) throw new Error(`the floor read ${bytes} of ${response.ContentLength} bytes`)
  return performance.now() - started
}

/** Changes `$LATEST`'s environment (keeping every other variable) and waits until the update is done. */
async function changeLatest (lambda: LambdaClient, functionName: string, variables: Record<string, string>): Promise<void> {
  const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))
  await lambda.send(new UpdateFunctionConfigurationCommand({
    FunctionName: functionName,
    Environment: { Variables: { ...current.Environment?.Variables, ...variables } },
    RevisionId: current.RevisionId,
  }))
  // The SDK's waiter polls in whole seconds; the local update settles in a fraction of one. Not part of any figure.
  for (;;) {
    const state = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }))
    if (state.LastUpdateStatus === 'Successful') return
    if (state.LastUpdateStatus === 'Failed') throw new Error(`the configuration update failed: ${state.LastUpdateStatusReason ?? ''}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** The runtime's record of the next invocation that `matches`. */
function nextInvocation (runtime: LambdaRuntime, matches: (record: InvocationRecord) => boolean): Promise<InvocationRecord> {
  return new Promise((resolve) => {
    const listener = (record: InvocationRecord): void => {
      if (!matches(record)) return
      runtime.off('invocation', listener)
      resolve(record)
    }
    runtime.on('invocation', listener)
  })
}

printWhenRunDirectly(import.meta.url, run)
