/**
 * The function itself, which the Lambda entry point (lambda/index.ts, `index.handler`) loads once it has started the
 * model's download (bundled as CommonJS, dist/lambda/main.cjs, read through V8's code cache: lambda/code-cache.ts).
 * Module scope runs once per execution environment: configuration read and checked (a ConfigurationError here fails
 * the init phase with a message naming the variable), one S3 client (keep-alive connections reused by warm
 * invocations), one logger, one model cache inside the handler; `ready` then loads the configuration's pinned model
 * into it, and the entry point waits for it (a CommonJS module has no top-level await).
 */
import type { Handler } from 'aws-lambda'
import { warmUpRuntime } from '../src/inference/classifier.js'
import { dropEarlyRead, earlyReadStatus } from '../src/inference/early-read.js'
import { codeCacheStatus } from './code-cache.js'
import { warmUpPreprocessing } from '../src/inference/preprocess.js'
import { createLogger } from '../src/logging.js'
import { readConfig } from './config.js'
import { createHandler, functionS3Client, type FunctionAnswer } from './handler.js'

// When this module's body starts: after the bundle is compiled and the SDK evaluated (the init line reports it).
const evaluatedAt = Math.round(performance.now())
const config = readConfig(process.env)
const logger = createLogger('modelpin-inference')
const s3 = functionS3Client(process.env)

const inference = createHandler(config, { s3, logger })
export const handler: Handler<unknown, FunctionAnswer> = inference

/**
 * How long the init phase waits for the preload: Lambda ends an init that takes over 10 s. A load that takes longer
 * (a slow S3, a busy machine) goes on in the background, and the first request waits for it as for any load.
 */
const PRELOAD_WAIT_MS = 8000

// The configuration's pinned model loads in the init phase (which Lambda runs with a CPU boost, and does not bill for
// on-demand functions) rather than on the first request. Its download started first, in the entry point
// (lambda/index.ts); ONNX Runtime and sharp, which this bundle imports only on first use, load while the bytes arrive
// (without pins: at once), and sharp runs one small image, so that the first request finds everything in memory.
export const ready: Promise<void> = initialise()

async function initialise (): Promise<void> {
  let waited: NodeJS.Timeout | undefined
  const loaded = await Promise.race([
    Promise.all([inference.preload(), warmUpRuntime(), warmUpPreprocessing()]).then(() => true),
    new Promise<false>((resolve) => { waited = setTimeout(() => resolve(false), PRELOAD_WAIT_MS) }),
  ])
  clearTimeout(waited)
  // A read the preload did not take (it names another object than the configuration turned out to): not needed.
  const earlyReadUnused = loaded && dropEarlyRead()
  if (!loaded) logger.warn({ waitedMs: PRELOAD_WAIT_MS }, 'the configured model is still loading; the first request waits for it')

  logger.info({
    bucket: config.bucket,
    weightsKey: config.weightsKey,
    labelsKey: config.labelsKey,
    weightsVersionId: config.pin?.weightsVersionId,
    labelsVersionId: config.pin?.labelsVersionId,
    allowLatest: config.allowLatest,
    graphOptimizationLevel: config.session.graphOptimizationLevel,
    earlyRead: { ...earlyReadStatus(), unused: earlyReadUnused },
    functionEvaluatedAt: evaluatedAt,
    codeCache: codeCacheStatus(),
  }, 'inference function initialised')
}
