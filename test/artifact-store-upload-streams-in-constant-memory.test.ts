import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'

const s3 = testS3Client()
const MB = 1024 * 1024
const CHUNK = 64 * 1024

/** `total` deterministic pseudo-random bytes (xorshift32), produced chunk by chunk: never all in memory. */
function * generatedBytes (total: number, seed: number): Generator<Buffer> {
  let x = seed
  for (let produced = 0; produced < total; produced += CHUNK) {
    const chunk = Buffer.alloc(Math.min(CHUNK, total - produced)) // zero-filled: a tail shorter than 4 bytes stays 0
    for (let i = 0; i + 4 <= chunk.length; i += 4) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5
      chunk.writeUInt32LE(x >>> 0, i)
    }
    yield chunk
  }
}

function sha256Of (total: number, seed: number): string {
  const hash = createHash('sha256')
  for (const chunk of generatedBytes(total, seed)) hash.update(chunk)
  return hash.digest('hex')
}

async function versionCount (bucket: string, key: string): Promise<number> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }))
  return (listed.Versions ?? []).filter((v) => v.Key === key).length
}

t.test('a 100 MB upload streams through in constant memory as exactly one new version with the right sha256', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const folder = await mkdtemp(join(tmpdir(), 'modelpin-store-'))
  t.teardown(() => rm(folder, { recursive: true, force: true }))
  const store = new S3ArtifactStore({ s3, tmpDir: folder })
  const loc = { bucket, key: 'big/model.onnx' }
  const size = 100 * MB
  await store.upload(loc, Readable.from(['a first version']))
  t.equal(await versionCount(bucket, loc.key), 1)

  const expected = sha256Of(size, 0x2545f491)
  globalThis.gc?.()
  const baseline = process.memoryUsage().rss
  let peak = baseline
  const sample = (): void => { peak = Math.max(peak, process.memoryUsage().rss) }
  const timer = setInterval(sample, 20) // samples also while the spooled file goes up to S3
  let lastProgress = 0
  const result = await store.upload(loc, Readable.from(generatedBytes(size, 0x2545f491)), {
    onProgress: (bytes) => { lastProgress = bytes; sample() },
  }).finally(() => clearInterval(timer))
  sample()

  const growthMb = (peak - baseline) / MB
  t.comment(`RSS grew by ${growthMb.toFixed(1)} MB during a ${size / MB} MB upload`)
  t.ok(growthMb < 40, `RSS growth ${growthMb.toFixed(1)} MB is far below the upload's 100 MB`)
  t.equal(lastProgress, size)
  t.equal(result.size, size)
  t.equal(result.sha256, expected)
  t.equal(await versionCount(bucket, loc.key), 2, 'exactly one new version')
  t.equal((await store.headVersion(loc, result.versionId))?.sha256, expected, 'sha256 stored as user metadata')
  t.equal(await store.sha256Of(loc, result.versionId), expected, 'S3 holds exactly those bytes')
  t.same(await readdir(folder), [], 'the spooled file is gone')
})

t.test('above the multipart threshold an upload is still exactly one new version with its sha256', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const store = new S3ArtifactStore({ s3, multipartThresholdBytes: 6 * MB, partSizeBytes: 5 * MB })
  const loc = { bucket, key: 'parts.bin' }
  const size = 12 * MB + 123
  const result = await store.upload(loc, Readable.from(generatedBytes(size, 7)))
  t.equal(result.size, size)
  t.equal(result.sha256, sha256Of(size, 7))
  t.equal(await versionCount(bucket, loc.key), 1)
  const head = await store.headVersion(loc, result.versionId)
  t.same({ size: head?.size, sha256: head?.sha256 }, { size, sha256: result.sha256 })
  t.equal(await store.sha256Of(loc, result.versionId), result.sha256)
})
