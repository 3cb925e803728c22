import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pino } from 'pino'
import { TEST_LAMBDA_UPDATE_MS } from './lambda-runtime.js'
import { removeBucket, testS3Client } from './s3.js'
import { sideBySideStackOptions, startStack, type Stack, type StackOptions } from '../../src/local/stack.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * The local stack as `npm start` runs it, on the tiny model: the shared radosgw, buckets with unique names, the
 * local Lambda runtime and the admin API on free ports, a temporary data dir. Stopped and cleaned after the test.
 */
export async function startTestStack (t: Teardown, options: Partial<StackOptions> = {}): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-stack-'))
  const defaults = sideBySideStackOptions({
    dataDir,
    bucketPrefix: '',
    modelKind: 'tiny',
    // the generated files are the same for every test: share them
    modelDir: resolve('.modelpin/models/tiny'),
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    say: () => {},
  })
  const stack = await startStack({ ...defaults, lambdaUpdateMs: TEST_LAMBDA_UPDATE_MS, ...options })
  const buckets = stack.info.buckets
  t.teardown(async () => {
    await stack.close()
    const s3 = testS3Client()
    for (const bucket of Object.values(buckets)) await removeBucket(s3, bucket).catch(() => {})
    s3.destroy()
    await rm(dataDir, { recursive: true, force: true })
  })
  return stack
}
