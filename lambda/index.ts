/**
 * The Lambda entry point (`index.handler`). Module scope runs once per execution environment: configuration read
 * and checked (a ConfigurationError here fails the init phase with a message naming the variable), one S3 client
 * (keep-alive connections reused by warm invocations), one logger, one model cache inside the handler.
 */
import type { Handler } from 'aws-lambda'
import { createS3Client, s3SettingsFromEnv } from '../src/aws/s3-client.js'
import { warmUpRuntime } from '../src/inference/classifier.js'
import { createLogger } from '../src/logging.js'
import { readConfig } from './config.js'
import { createHandler, type FunctionAnswer } from './handler.js'

const config = readConfig(process.env)
const logger = createLogger('modelpin-inference')
const s3 = createS3Client(s3SettingsFromEnv(process.env))

export const handler: Handler<unknown, FunctionAnswer> = createHandler(config, { s3, logger })

// ONNX Runtime's one-time initialisation belongs to the init phase, not to the first request.
await warmUpRuntime()

logger.info({
  bucket: config.bucket,
  weightsKey: config.weightsKey,
  labelsKey: config.labelsKey,
  weightsVersionId: config.pin?.weightsVersionId,
  labelsVersionId: config.pin?.labelsVersionId,
  allowLatest: config.allowLatest,
  graphOptimizationLevel: config.session.graphOptimizationLevel,
}, 'inference function initialised')
