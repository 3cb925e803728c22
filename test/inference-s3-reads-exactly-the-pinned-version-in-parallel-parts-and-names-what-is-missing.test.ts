import { createServer } from 'node:net'
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { createS3Client } from '../src/aws/s3-client.js'
import { InferenceError } from '../src/inference/errors.js'
import { latestVersionId, readObject, readVersion } from '../src/inference/s3-objects.js'
import { S3_CREDENTIALS, S3_SETTINGS, createTestBucket, testS3Client } from './helpers/s3.js'
import { sha256 } from './helpers/models.js'

const s3 = testS3Client()

t.test('parallel ranged GETs return the bytes and sha256 of the pinned version, not the latest', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const first = randomBytes(1_000_003)
  const second = randomBytes(999)
  const v1 = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: first }))).VersionId!
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: second }))
  // 64 KiB parts, 4 at a time: 16 ranged GETs whose parts finish out of order and are hashed in order.
  const read = await readVersion(s3, { bucket, key: 'w', versionId: v1 }, { partBytes: 65_536, concurrency: 4 })
  t.ok(read.bytes.equals(first), 'the bytes of version 1, although version 2 is the latest')
  t.equal(read.sha256, sha256(first))
  t.equal(read.versionId, v1)
  const whole = await readVersion(s3, { bucket, key: 'w', versionId: v1 }, { partBytes: 8 << 20, concurrency: 8 })
  t.ok(whole.bytes.equals(first), 'one part larger than the object reads it whole')
})

t.test('an empty version reads as zero bytes', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const v = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }))).VersionId!
  const read = await readVersion(s3, { bucket, key: 'empty', versionId: v })
  t.equal(read.bytes.byteLength, 0)
  t.equal(read.sha256, sha256(Buffer.alloc(0)))
})

t.test('an unknown VersionId or key is a VersionNotFoundError naming bucket, key and VersionId', async (t) => {
  const bucket = await createTestBucket(t, s3)
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'w', Body: 'x' }))
  const unknown = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'
  await t.rejects(readVersion(s3, { bucket, key: 'w', versionId: unknown }), {
    name: 'VersionNotFoundError', message: `s3://${bucket}/w (VersionId ${unknown}) does not exist`,
  })
  await t.rejects(readVersion(s3, { bucket, key: 'nothing-here', versionId: unknown }), { name: 'VersionNotFoundError', message: /nothing-here/ })
  await t.rejects(readObject(s3, { bucket, key: 'nothing-here' }, 100), {
    name: 'VersionNotFoundError', message: `s3://${bucket}/nothing-here (latest version) does not exist`,
  })
})

t.test('an image over the byte limit is refused from its Content-Length', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.jpg', Body: Buffer.alloc(2048), Metadata: { note: 'hello' } }))
  await t.rejects(readObject(s3, { bucket, key: 'big.jpg' }, 1024), { name: 'ImageTooLargeError', message: /2048 bytes; the limit is 1024/ })
  const small = await readObject(s3, { bucket, key: 'big.jpg', versionId: put.VersionId }, 4096)
  t.equal(small.bytes.byteLength, 2048)
  t.equal(small.versionId, put.VersionId)
  t.same(small.metadata, { note: 'hello' }, 'user metadata comes back with the bytes')
  t.equal(await latestVersionId(s3, { bucket, key: 'big.jpg' }), put.VersionId)
})

t.test('a connection failure is passed on unchanged (not an InferenceError), so Lambda retries it', async (t) => {
  const port = await closedPort()
  const down = createS3Client({ ...S3_SETTINGS, endpoint: `http://127.0.0.1:${port}` }, S3_CREDENTIALS)
  t.teardown(() => down.destroy())
  const error = await readVersion(down, { bucket: 'b', key: 'k', versionId: 'v' }).catch((e: unknown) => e)
  t.ok(error instanceof Error)
  t.notOk(error instanceof InferenceError, `${(error as Error).name}: ${(error as Error).message}`)
  t.match(error, { code: 'ECONNREFUSED' })
})

/** A port nothing listens on: bound, then closed. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
