import { fileURLToPath } from 'node:url'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { pino, type Logger } from 'pino'
import {
  startLambdaRuntime, type LambdaRuntime, type LambdaRuntimeOptions, type RuntimeEvents,
} from '../../src/local/lambda-runtime/index.js'

/** Absolute path of a handler fixture in test/fixtures/handlers. */
export function handlerPath (file: string): string {
  return fileURLToPath(new URL(`../fixtures/handlers/${file}`, import.meta.url))
}

/** The runtime's log (handler output included) on stderr, so it never mixes with tap's output; LOG_LEVEL to see more. */
export function testLogger (): Logger {
  return pino({ name: 'lambda-runtime', level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2))
}

/**
 * How long the tests' Lambda runtimes keep an update `InProgress` unless a test says otherwise: a fifth of the stack's
 * second, so the deployer still waits on every update while the suite stays quick.
 */
export const TEST_LAMBDA_UPDATE_MS = 200

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * Starts a runtime on a free port, closed after the test, and an SDK client pointed at it (no retries). Updates stay
 * `InProgress` for `TEST_LAMBDA_UPDATE_MS` unless `updateDelayMs` says otherwise.
 */
export async function startTestRuntime (
  t: Teardown, options: Omit<LambdaRuntimeOptions, 'port' | 'host'>
): Promise<{ runtime: LambdaRuntime, lambda: LambdaClient }> {
  const runtime = await startLambdaRuntime({ logger: testLogger(), updateDelayMs: TEST_LAMBDA_UPDATE_MS, ...options, host: '127.0.0.1', port: 0 })
  const lambda = lambdaClient(runtime.url)
  t.teardown(async () => {
    lambda.destroy()
    await runtime.close()
  })
  return { runtime, lambda }
}

/** @aws-sdk/client-lambda as production builds it, with the endpoint pointed at the local runtime. */
export function lambdaClient (endpoint: string): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
}

/**
 * Resolves with the first `event` of the runtime whose payload satisfies `matches`. The time limit only turns a
 * hang into a clear failure; the test waits on the event itself.
 */
export function waitForRuntimeEvent<K extends keyof RuntimeEvents> (
  runtime: LambdaRuntime, event: K, matches: (...args: RuntimeEvents[K]) => boolean, limitMs = 30_000
): Promise<RuntimeEvents[K]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: RuntimeEvents[K]): void => {
      if (!matches(...args)) return
      cleanup()
      resolve(args)
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`no "${event}" event matched within ${limitMs} ms`))
    }, limitMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      runtime.off(event, listener as never)
    }
    runtime.on(event, listener as never)
  })
}

/** The JSON an Invoke returned. */
export function payloadOf (payload: Uint8Array | undefined): any {
  return JSON.parse(Buffer.from(payload ?? new Uint8Array()).toString('utf8'))
}
