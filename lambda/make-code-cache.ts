/**
 * `node make-code-cache.mjs` beside the bundle (dist/lambda/make-code-cache.mjs): makes main.cjs.cache, the code cache
 * the entry point loads the function with (lambda/code-cache.ts). It runs the function's init as a cold start would,
 * without a model: the configuration names placeholder objects and no pin, so nothing is read from S3, while the AWS
 * SDK's modules run and ONNX Runtime and sharp load and warm up. Whatever V8 compiled by then goes into the cache.
 *
 * Run under the Node and flags the function runs with: the local stack's build (src/local/lambda-bundle.ts) and the
 * image's (lambda/Dockerfile) do. Prints the cache's size; exits 1 with the error when the init fails.
 */
import { fileURLToPath } from 'node:url'
import { requireWithCodeCache, writeCodeCache } from './code-cache.js'
import type * as FunctionModule from './main.js'

const file = fileURLToPath(new URL('./main.cjs', import.meta.url))
for (const [name, value] of Object.entries({
  MODEL_BUCKET: 'code-cache', MODEL_WEIGHTS_KEY: 'model.onnx', MODEL_LABELS_KEY: 'labels.txt', OUTPUT_BUCKET: 'code-cache', LOG_LEVEL: 'silent',
})) process.env[name] = value
for (const name of ['MODEL_WEIGHTS_VERSION_ID', 'MODEL_LABELS_VERSION_ID', 'MODEL_WEIGHTS_SHA256', 'MODEL_LABELS_SHA256', 'MODEL_RELEASE']) delete process.env[name]
process.env.AWS_REGION ??= 'us-east-1'

try {
  const loaded = requireWithCodeCache<typeof FunctionModule>(file, { ignoreCache: true })
  await loaded.exports.ready
  const bytes = writeCodeCache(file, loaded)
  console.log(`[make-code-cache] ${file}.cache: ${(bytes / 1024).toFixed(0)} KiB for ${process.version}`)
  // ONNX Runtime's threads and sharp's keep nothing worth waiting for
  process.exit(0)
} catch (error) {
  console.error('[make-code-cache] the function\'s init failed:', error)
  process.exit(1)
}
