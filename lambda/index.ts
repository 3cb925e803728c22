/**
 * The Lambda entry point (`index.handler`), built as a small module of its own (dist/lambda/index.mjs): it starts the
 * download of the configuration's pinned model (src/inference/early-read.ts) and only then loads the function
 * (lambda/main.ts, bundled as dist/lambda/main.cjs), whose 1.6 MB V8 takes from its code cache (lambda/code-cache.ts)
 * instead of compiling them. The download runs on a worker thread meanwhile; the function's loader takes it over.
 */
import { fileURLToPath } from 'node:url'
import type { Handler } from 'aws-lambda'
import { startEarlyRead } from '../src/inference/early-read.js'
import { requireWithCodeCache } from './code-cache.js'
import type { FunctionAnswer } from './handler.js'
import type * as FunctionModule from './main.js'

startEarlyRead(process.env)

/**
 * Set by the bundle's build (src/local/lambda-bundle.ts) to the function's file beside the entry point; undeclared
 * when this file runs from source, which imports lambda/main.ts.
 */
declare const FUNCTION_BUNDLE: string | undefined

const fn: typeof FunctionModule = typeof FUNCTION_BUNDLE === 'string'
  ? requireWithCodeCache<typeof FunctionModule>(fileURLToPath(new URL(FUNCTION_BUNDLE, import.meta.url))).exports
  : await import('./main.js')
await fn.ready
export const handler: Handler<unknown, FunctionAnswer> = fn.handler
