/**
 * One image (the 500x375 benchmark JPEG, read from S3) through the local Lambda runtime on the full-size ResNet-50,
 * with the local stack as `npm start` runs it (temporary data dir, unique buckets, free ports, the running radosgw).
 *
 * - `cold_start_ms`: a synchronous Invoke (SDK call to answer) that lands in a NEW execution environment: process
 *   start, bundle import, model download and session creation, then the image. Each cold start is forced by
 *   changing `$LATEST`'s configuration (a variable the handler does not read), which retires its idle environment
 *   as Lambda does; median of COLD_STARTS.
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
import {
  GetAliasCommand, GetFunctionConfigurationCommand, InvokeCommand, UpdateFunctionConfigurationCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import { pino } from 'pino'
import { readConfig } from '../lambda/config.js'
import { createHandler, type Classification } from '../lambda/handler.js'
import { createS3Client, s3SettingsFromEnv } from '../src/aws/s3-client.js'
import type { InvocationRecord, LambdaRuntime } from '../src/local/lambda-runtime/index.js'
import { startBenchStack } from './lib/local-stack.js'
import { median, percentile, round } from './lib/stats.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

type Figures = Record<string, number | string>

/** Each about 1.5 to 4 s on this machine (mostly the 100 MB model: download, sha256, session). */
const COLD_STARTS = 5
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

    log(`cold: ${COLD_STARTS} invocations, each in a new environment of $LATEST`)
    const cold: number[] = []
    const coldInit: number[] = []
    const coldModel: number[] = []
    for (let i = 0; i < COLD_STARTS; i++) {
      await changeLatest(lambda, functionName, { BENCH_COLD_START: String(i) })
      const recorded = nextInvocation(stack.runtime, (r) => r.version === '$LATEST')
      const out = await invokeTimed('$LATEST')
      const record = await recorded
      if (!out.body.environment.coldStart || !record.coldStart || out.body.cache.loads !== 1) {
        throw new Error(`cold start ${i} was not one: ${JSON.stringify({ environment: out.body.environment, cache: out.body.cache })}`)
      }
      cold.push(out.ms)
      coldInit.push(record.initDurationMs ?? Number.NaN)
      coldModel.push(out.body.timings.modelMs)
      log(`cold ${i + 1}: ${round(out.ms, 0)} ms (init ${round(record.initDurationMs ?? Number.NaN, 0)} ms, model ${round(out.body.timings.modelMs, 0)} ms)`)
    }

    // The in-process handler: the same factory the bundle calls, with the environment of the version `live` runs.
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: stack.info.function.alias }))
    const liveConfig = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: alias.FunctionVersion }))
    const env: Record<string, string> = { ...liveConfig.Environment?.Variables, AWS_REGION: stack.info.credentials.region }
    const { accessKeyId, secretAccessKey } = stack.info.credentials
    const s3 = createS3Client(s3SettingsFromEnv(env), { accessKeyId, secretAccessKey })
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
    return {
      cold_start_ms: median(cold),
      cold_start_max_ms: Math.max(...cold),
      cold_start_init_ms: median(coldInit),
      cold_start_model_load_ms: median(coldModel),
      warm_ms: median(warm),
      warm_in_process_ms: median(local),
      runtime_overhead_ratio: median(warm) / median(local),
      runtime_overhead_ms: median(around),
      local_runtime_method: `cold: ${COLD_STARTS} Invokes of $LATEST after a configuration change (new environment each); ` +
        `warm: ${WARM_PAIRS} Invokes of ${stack.info.function.alias} interleaved with the handler in-process; medians; ` +
        `top label "${sample.body.predictions[0]?.label ?? '?'}"`,
    }
  } finally {
    await bench.close()
  }
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
