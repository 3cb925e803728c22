import { randomBytes } from 'node:crypto'
import t, { type Test } from 'tap'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { createS3Client } from '../src/aws/s3-client.js'
import { readInWorker, readVersion } from '../src/inference/s3-objects.js'
import { createTestBucket, S3_CREDENTIALS, S3_ENDPOINT, S3_SETTINGS, testS3Client } from './helpers/s3.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { sha256 } from './helpers/models.js'

const s3 = testS3Client()
const parts = { partBytes: 256 * 1024, concurrency: 3 }
const body = randomBytes(3 * 1024 * 1024 + 12_345)

async function setup (t: Test): Promise<{ bucket: string, versionId: string, proxied: Awaited<ReturnType<typeof startFaultProxy>>, viaProxy: ReturnType<typeof createS3Client> }> {
  const bucket = await createTestBucket(t, s3)
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.bin', Body: body, Metadata: { 'modelpin-note': 'hello' } }))
  const proxied = await startFaultProxy(t, S3_ENDPOINT, { keepHost: true })
  const viaProxy = createS3Client({ ...S3_SETTINGS, endpoint: proxied.url }, S3_CREDENTIALS)
  t.teardown(() => viaProxy.destroy())
  return { bucket, versionId: put.VersionId!, proxied, viaProxy }
}

t.test('the bytes, digest, version and metadata are those the main-thread reader gets', async (t) => {
  const { bucket, versionId } = await setup(t)
  const seen: Array<{ metadata: Record<string, string>, size: number }> = []
  const sizes: number[] = []
  const read = await readInWorker(s3, { bucket, key: 'big.bin', versionId }, { ...parts, inspect: (head) => seen.push(head), onSize: (n) => sizes.push(n) })
  t.ok(read.bytes.equals(body), 'every byte in place')
  t.equal(read.sha256, sha256(body))
  t.equal(read.versionId, versionId)
  t.same(read.metadata, { 'modelpin-note': 'hello' })
  t.same(seen, [{ metadata: { 'modelpin-note': 'hello' }, size: body.byteLength }], 'inspected once, before the bytes')
  t.same(sizes, [body.byteLength])
  const onMain = await readVersion(s3, { bucket, key: 'big.bin', versionId }, parts)
  t.equal(onMain.sha256, read.sha256)
  t.same(onMain.metadata, read.metadata)

  const latest = await readInWorker(s3, { bucket, key: 'big.bin' }, parts)
  t.equal(latest.versionId, versionId, 'without a VersionId: the latest, and which one it was')
  const empty = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: '' }))
  const none = await readInWorker(s3, { bucket, key: 'empty', versionId: empty.VersionId! }, parts)
  t.equal(none.bytes.byteLength, 0, 'an empty object (S3 answers 416 to a range) is read whole')
  t.equal(none.sha256, sha256(Buffer.alloc(0)))
})

t.test('a part whose connection is reset or that gets a 503 is sent again, and the bytes are still exact', async (t) => {
  const { bucket, versionId, proxied, viaProxy } = await setup(t)
  const path = /\/big\.bin\?/
  const reset = proxied.add({ method: 'GET', path, action: { kind: 'reset' }, times: 1 })
  const busy = proxied.add({ method: 'GET', path, action: { kind: 'answer', status: 503, body: '<Error><Code>SlowDown</Code><Message>busy</Message></Error>' }, times: 1 })
  const read = await readInWorker(viaProxy, { bucket, key: 'big.bin', versionId }, parts)
  t.equal(reset.hits, 1)
  t.equal(busy.hits, 1)
  t.ok(read.bytes.equals(body), 'every byte in place')
  t.equal(read.sha256, sha256(body))
  const partCount = Math.ceil(body.byteLength / parts.partBytes)
  t.equal(proxied.count('GET', path), partCount + 2, 'one GET per part and one more per failure')
})

t.test('what S3 refuses comes back as the SDK would report it, once, and a missing version is named', async (t) => {
  const { bucket, versionId, proxied, viaProxy } = await setup(t)
  await t.rejects(readInWorker(s3, { bucket, key: 'big.bin', versionId: 'no-such-version' }, parts), { name: 'VersionNotFoundError', message: /big\.bin .*no-such-version.* does not exist/ })
  await t.rejects(readInWorker(s3, { bucket, key: 'nothing-here', versionId }, parts), { name: 'VersionNotFoundError' })
  const path = /\/big\.bin\?/
  proxied.add({ method: 'GET', path, action: { kind: 'answer', status: 403, body: '<Error><Code>AccessDenied</Code><Message>no</Message></Error>' } })
  await t.rejects(readInWorker(viaProxy, { bucket, key: 'big.bin', versionId }, parts), { name: 'AccessDeniedError' })
  t.equal(proxied.count('GET', path), 1, 'a refusal is not sent again')
})

t.test('an abort or a refusal by inspect stops the read', async (t) => {
  const { bucket, versionId, proxied, viaProxy } = await setup(t)
  const path = /\/big\.bin\?/
  // the first part's answer is held until the test lets it go
  let release = (): void => {}
  proxied.add({ method: 'GET', path, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { release = resolve }), times: 1 })
  const abort = new AbortController()
  const reading = readInWorker(viaProxy, { bucket, key: 'big.bin', versionId }, { ...parts, signal: abort.signal })
  abort.abort(new Error('the labels failed'))
  await t.rejects(reading, { message: 'the labels failed' })
  release()
  await t.rejects(readInWorker(s3, { bucket, key: 'big.bin', versionId }, { ...parts, inspect: () => { throw new Error('not this one') } }), { message: 'not this one' })
})
