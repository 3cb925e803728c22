/**
 * The local stack for benchmarks: `startStack` as `npm start` runs it, but on the full-size ResNet-50 (generated
 * once into .modelpin/models/resnet50 and reused; benchmarks of the API alone may take the tiny model), with a temporary data dir, unique bucket names, free ports and
 * the radosgw already running; plus a bucket holding the benchmark image (not the input bucket, whose uploads would
 * invoke the function on their own). `close` stops it and removes what it made.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  CreateBucketCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { pino } from 'pino'
import { BENCHMARK_IMAGE, FIXTURES_DIR } from '../../scripts/generate-fixtures.js'
import { createS3Client } from '../../src/aws/s3-client.js'
import { sideBySideStackOptions, startStack, STACK_DEFAULTS, type Stack } from '../../src/local/stack.js'
import { removeBucket } from '../../test/helpers/s3.js'

const root = resolve(fileURLToPath(import.meta.url), '../../..')

export interface BenchStack {
  stack: Stack
  /** @aws-sdk/client-lambda pointed at the stack's runtime, no retries (a retry would hide a failure in a figure) */
  lambda: LambdaClient
  /** an S3 client of the benchmark's own (the stack's is destroyed when it stops) */
  s3: S3Client
  /** where the benchmark image is: `{ bucket, key }` as a direct invoke names it */
  image: { bucket: string, key: string }
  /** an admin API call with the stack's token (bytes are sent as they are, anything else as JSON); throws on a status >= 300 */
  api: (method: string, path: string, body?: unknown) => Promise<any>
  close: () => Promise<void>
}

export async function startBenchStack (say: (line: string) => void, options: { modelKind?: 'resnet50' | 'tiny' } = {}): Promise<BenchStack> {
  const modelKind = options.modelKind ?? 'resnet50'
  const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-bench-stack-'))
  const stackOptions = sideBySideStackOptions({
    dataDir,
    bucketPrefix: 'bench-',
    modelKind,
    modelDir: resolve(root, `.modelpin/models/${modelKind}`),
    logger: pino({ level: process.env.BENCH_LOG_LEVEL ?? 'silent' }, pino.destination(2)),
    say,
  })
  const buckets = stackOptions.buckets
  const suffix = randomBytes(4).toString('hex')
  const images = `bench-images-${suffix}`
  // Our own client: the stack destroys its own when it stops, and the buckets are removed after that.
  const s3 = createS3Client({
    endpoint: `http://${STACK_DEFAULTS.host}:${STACK_DEFAULTS.s3Port}`, region: STACK_DEFAULTS.region, forcePathStyle: true, checksums: 'when_required',
  }, STACK_DEFAULTS.s3Credentials)
  // radosgw keeps objects in RAM: never leave 200 MB of model behind, also when start-up fails half-way
  const removeAll = async (): Promise<void> => {
    for (const bucket of [...Object.values(buckets), images]) await removeBucket(s3, bucket).catch(() => {})
    s3.destroy()
    await rm(dataDir, { recursive: true, force: true })
  }
  let stack: Stack
  try {
    stack = await startStack(stackOptions)
  } catch (error) {
    await removeAll()
    throw error
  }
  const { accessKeyId, secretAccessKey, region } = stack.info.credentials
  const lambda = new LambdaClient({ endpoint: stack.info.endpoints.lambda, region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 })
  const close = async (): Promise<void> => {
    lambda.destroy()
    await stack.close()
    await removeAll()
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: images }))
    await s3.send(new PutObjectCommand({
      Bucket: images, Key: BENCHMARK_IMAGE.file, Body: await readFile(join(FIXTURES_DIR, BENCHMARK_IMAGE.file)), ContentType: 'image/jpeg',
    }))
  } catch (error) {
    await close()
    throw error
  }
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const response = await fetch(stack.info.endpoints.api + path, {
      method,
      headers: {
        authorization: `Bearer ${stack.token}`,
        ...(body === undefined ? {} : { 'content-type': body instanceof Uint8Array ? 'application/octet-stream' : 'application/json' }),
      },
      ...(body === undefined ? {} : { body: body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body) }),
    })
    const text = await response.text()
    if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
    return text === '' ? null : JSON.parse(text)
  }
  return { stack, lambda, s3, image: { bucket: images, key: BENCHMARK_IMAGE.file }, api, close }
}
