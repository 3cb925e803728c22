/**
 * The Lambda entry point (`index.handler`), built as a small module of its own (dist/lambda/index.mjs): it starts the
 * download of the configuration's pinned model (src/inference/early-read.ts) and only then imports the function
 * (lambda/main.ts, dist/lambda/main.mjs), whose 1.6 MB take V8 about 100 ms to compile and the AWS SDK in them about
 * 200 ms more to evaluate. The download runs on a worker thread meanwhile; the function's loader takes it over.
 */
import type { Handler } from 'aws-lambda'
import { startEarlyRead } from '../src/inference/early-read.js'
import type { FunctionAnswer } from './handler.js'

startEarlyRead(process.env)

const { handler: main } = await import('./main.js')
export const handler: Handler<unknown, FunctionAnswer> = main
