import { randomBytes } from 'node:crypto'
import t from 'tap'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { createS3Client } from '../src/aws/s3-client.js'
import { InferenceError } from '../src/inference/errors.js'
import { directGetTarget } from '../src/inference/direct-get.js'
import { readObject } from '../src/inference/s3-objects.js'
import { createTestBucket, S3_CREDENTIALS, S3_ENDPOINT, S3_SETTINGS, testS3Client } from './helpers/s3.js'
import { startFaultProxy } from './helpers/fault-proxy.js'

const s3 = testS3Client()
const image = randomBytes(56_285)

t.test('the GET goes to the client\'s endpoint with its credentials, for the version named, with its metadata', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/a photo+1.jpg', Body: image, Metadata: { 'modelpin-note': 'hello' } }))
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/a photo+1.jpg', Body: Buffer.from('newer') }))
  const proxied = await startFaultProxy(t, S3_ENDPOINT, { keepHost: true })
  const viaProxy = createS3Client({ ...S3_SETTINGS, endpoint: proxied.url }, S3_CREDENTIALS)
  t.teardown(() => viaProxy.destroy())

  const read = await readObject(viaProxy, { bucket, key: 'in/a photo+1.jpg', versionId: first.VersionId }, 1 << 20)
  t.ok(read.bytes.equals(image), 'the bytes of the version named (a key with a space and a plus sign)')
  t.equal(read.versionId, first.VersionId)
  t.same(read.metadata, { 'modelpin-note': 'hello' })
  const latest = await readObject(viaProxy, { bucket, key: 'in/a photo+1.jpg' }, 1 << 20)
  t.equal(latest.bytes.toString(), 'newer', 'without a VersionId: the latest')
  t.match(proxied.requests.filter((r) => r.method === 'GET'), [
    { path: /X-Amz-Signature=[0-9a-f]{64}/ },
    { path: /X-Amz-Signature=/ },
  ], 'two signed GETs through the client\'s endpoint, nothing else')
  t.equal(proxied.requests.length, 2)
})

t.test('a GET that got no answer or a 5xx is sent again, three tries in all', async (t) => {
  const bucket = await createTestBucket(t, s3)
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photo.jpg', Body: image }))
  const proxied = await startFaultProxy(t, S3_ENDPOINT, { keepHost: true })
  const viaProxy = createS3Client({ ...S3_SETTINGS, endpoint: proxied.url }, S3_CREDENTIALS)
  t.teardown(() => viaProxy.destroy())
  const path = /\/photo\.jpg\?/
  const reset = proxied.add({ method: 'GET', path, action: { kind: 'reset' }, times: 1 })
  const busy = proxied.add({ method: 'GET', path, action: { kind: 'answer', status: 503, body: '<Error><Code>SlowDown</Code><Message>busy</Message></Error>' }, times: 1 })
  const read = await readObject(viaProxy, { bucket, key: 'photo.jpg' }, 1 << 20)
  t.ok(read.bytes.equals(image))
  t.equal(reset.hits, 1)
  t.equal(busy.hits, 1)
  t.equal(proxied.count('GET', path), 3)

  proxied.add({ method: 'GET', path, action: { kind: 'reset' } })
  const error = await readObject(viaProxy, { bucket, key: 'photo.jpg' }, 1 << 20).catch((e: unknown) => e)
  t.ok(error instanceof Error && !(error instanceof InferenceError), 'three resets: passed on unchanged, so Lambda retries the event')
  t.equal(proxied.count('GET', path), 6)
})

t.test('what S3 refuses is named as through the SDK, and not sent again', async (t) => {
  const bucket = await createTestBucket(t, s3)
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'photo.jpg', Body: image }))
  const wrongSecret = createS3Client(S3_SETTINGS, { ...S3_CREDENTIALS, secretAccessKey: 'not-the-secret' })
  t.teardown(() => wrongSecret.destroy())
  await t.rejects(readObject(wrongSecret, { bucket, key: 'photo.jpg' }, 1 << 20), { name: 'AccessDeniedError', message: `access to s3://${bucket}/photo.jpg (latest version) was denied` })
  await t.rejects(readObject(s3, { bucket, key: 'photo.jpg', versionId: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345' }, 1 << 20), { name: 'VersionNotFoundError' })

  const proxied = await startFaultProxy(t, S3_ENDPOINT, { keepHost: true })
  const viaProxy = createS3Client({ ...S3_SETTINGS, endpoint: proxied.url }, S3_CREDENTIALS)
  t.teardown(() => viaProxy.destroy())
  proxied.add({ method: 'GET', path: /photo\.jpg/, action: { kind: 'answer', status: 403, body: '<Error><Code>AccessDenied</Code><Message>no</Message></Error>' } })
  await t.rejects(readObject(viaProxy, { bucket, key: 'photo.jpg' }, 1 << 20), { name: 'AccessDeniedError' })
  t.equal(proxied.count('GET', /photo\.jpg/), 1, 'a refusal is final')
})

t.test('a client with endpoints the signer does not cover reads through the SDK', async (t) => {
  const onAws = createS3Client({ region: 'eu-west-1', forcePathStyle: false, checksums: 'when_supported' }, S3_CREDENTIALS)
  t.teardown(() => onAws.destroy())
  t.match(await directGetTarget(onAws), { endpoint: undefined, region: 'eu-west-1', forcePathStyle: false }, 'AWS S3 in a region: signed directly')
  t.match(await directGetTarget(s3), { endpoint: S3_ENDPOINT.replace(/\/?$/, '/'), forcePathStyle: true }, 'a gateway: signed directly')
  const { S3Client } = await import('@aws-sdk/client-s3')
  for (const option of [{ useDualstackEndpoint: true }, { useFipsEndpoint: true }, { useAccelerateEndpoint: true }]) {
    const special = new S3Client({ region: 'us-east-1', credentials: S3_CREDENTIALS, ...option })
    t.equal(await directGetTarget(special), undefined, `${Object.keys(option)[0]}: through the SDK`)
    special.destroy()
  }
})
