import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import t from 'tap'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner'
import { presignGetObject, type PresignInput } from '../src/aws/presign.js'
import { createTestBucket, S3_CREDENTIALS, S3_ENDPOINT, testS3Client } from './helpers/s3.js'

/** node:crypto as the SDK's signer wants a hash: a class, HMAC when given a secret. */
class NodeSha256 {
  private readonly hash: Hash | Hmac
  constructor (secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }

  update (data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data))
  }

  async digest (): Promise<Uint8Array> {
    return this.hash.digest()
  }
}

function bytes (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data)
}

/** The same GET presigned by the AWS SDK's own S3 presigner, from the host and path presignGetObject chose. */
async function sdkSignature (input: PresignInput, url: URL): Promise<string> {
  const presigner = new S3RequestPresigner({ credentials: input.credentials, region: input.region, sha256: NodeSha256 })
  const signed = await presigner.presign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    // escaped once, as the SDK's serializer hands a key to S3's signer (which does not escape it again)
    path: url.pathname,
    query: input.versionId === undefined ? {} : { versionId: input.versionId },
    headers: { host: url.host },
  }, { expiresIn: input.expiresIn, signingDate: input.now })
  return String(signed.query?.['X-Amz-Signature'])
}

const now = new Date('2026-12-03T12:34:56Z')
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }

t.test('the signature is the one the SDK computes, for AWS, a dotted bucket, a gateway, a session token and odd keys', async (t) => {
  const cases: Array<[string, PresignInput, string]> = [
    ['AWS, virtual-hosted', { region: 'eu-west-1', forcePathStyle: false, credentials, bucket: 'models', key: 'resnet50/model.onnx', expiresIn: 900, now },
      'https://models.s3.eu-west-1.amazonaws.com/resnet50/model.onnx?'],
    ['AWS, a bucket with a dot goes path style', { region: 'us-east-1', forcePathStyle: false, credentials, bucket: 'my.models', key: 'm.onnx', expiresIn: 60, now },
      'https://s3.us-east-1.amazonaws.com/my.models/m.onnx?'],
    ['the Lambda role\'s session token and a VersionId', {
      region: 'us-east-1', forcePathStyle: false, credentials: { ...credentials, sessionToken: 'IQoJb3JpZ2luX2VjE+/=' }, bucket: 'models', key: 'k', versionId: 'v1.a-b_c', expiresIn: 900, now,
    }, 'https://models.s3.us-east-1.amazonaws.com/k?'],
    ['a gateway, path style, a key needing escapes', {
      endpoint: 'http://127.0.0.1:7480', region: 'us-east-1', forcePathStyle: true, credentials, bucket: 'b', key: 'dir with space/ü+(1)*!\'~.onnx', expiresIn: 900, now,
    }, 'http://127.0.0.1:7480/b/dir%20with%20space/%C3%BC%2B%281%29%2A%21%27~.onnx?'],
  ]
  for (const [name, input, prefix] of cases) {
    const url = presignGetObject(input)
    t.ok(url.startsWith(prefix), `${name}: ${url.slice(0, prefix.length)}`)
    const parsed = new URL(url)
    t.equal(parsed.searchParams.get('X-Amz-Signature'), await sdkSignature(input, parsed), `${name}: the SDK's signature`)
    t.equal(parsed.searchParams.get('X-Amz-Security-Token'), input.credentials.sessionToken ?? null, `${name}: the token is in the signed query`)
  }
  t.throws(() => presignGetObject({ ...cases[0]![1], expiresIn: 604_801 }), /expiresIn must be 1 to 604800/)
})

t.test('radosgw serves exactly the version a URL names, and refuses a wrong secret or an expired URL', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const key = 'models/a key+ü.onnx'
  const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version one' }))
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'version two' }))
  const input = { endpoint: S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: S3_CREDENTIALS, bucket, key, expiresIn: 60 }

  const latest = await fetch(presignGetObject(input))
  t.equal(await latest.text(), 'version two', 'no VersionId: the latest')
  const pinned = await fetch(presignGetObject({ ...input, versionId: first.VersionId! }))
  t.equal(pinned.status, 200)
  t.equal(await pinned.text(), 'version one', 'the VersionId it names')

  const forged = await fetch(presignGetObject({ ...input, credentials: { ...S3_CREDENTIALS, secretAccessKey: 'not-the-secret' } }))
  t.equal(forged.status, 403)
  t.match(await forged.text(), /SignatureDoesNotMatch/)
  const expired = await fetch(presignGetObject({ ...input, now: new Date(Date.now() - 10 * 60_000) }))
  t.equal(expired.status, 403, 'signed ten minutes ago for one minute')
  t.match(await expired.text(), /AccessDenied/)
})
