import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import t from 'tap'
import { createS3Client } from '../src/aws/s3-client.js'
import { classifyS3Error, isNotFound, type S3ErrorKind } from '../src/aws/s3-errors.js'
import { S3_SETTINGS, createTestBucket, testS3Client } from './helpers/s3.js'

const s3 = testS3Client()

/** A client of an endpoint other than radosgw that sends each request once, so that every answer is seen as it is. */
function clientOf (port: number): S3Client {
  return new S3Client({
    region: S3_SETTINGS.region,
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  })
}

type Read = 'GET' | 'HEAD'

/** The kind of the error `client` throws for one GET or HEAD; fails the test when the read succeeds. */
async function kindOf (client: S3Client, read: Read, input: { Bucket: string, Key: string, VersionId?: string, Range?: string }): Promise<S3ErrorKind> {
  try {
    await client.send(read === 'GET' ? new GetObjectCommand(input) : new HeadObjectCommand(input))
  } catch (error) {
    return classifyS3Error(error, { versionId: input.VersionId })
  }
  throw new Error(`${read} ${input.Key} succeeded`)
}

t.test('radosgw: every read that finds nothing is a missing version when it names one and a missing key otherwise', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const put = async (key: string): Promise<string> => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }))).VersionId!
  const deletedVersion = await put('deleted')
  const deleteMarker = (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'deleted' }))).VersionId!
  const otherKeysVersion = await put('other')
  const unknownVersion = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'
  const missingBucket = `${bucket}-missing`

  for (const read of ['GET', 'HEAD'] as const) {
    const cases: Array<[string, { Bucket: string, Key: string, VersionId?: string }, S3ErrorKind]> = [
      ['a key never written', { Bucket: bucket, Key: 'never' }, 'key-not-found'],
      ['a key whose latest version is a delete marker', { Bucket: bucket, Key: 'deleted' }, 'key-not-found'],
      ['an unknown VersionId', { Bucket: bucket, Key: 'deleted', VersionId: unknownVersion }, 'version-not-found'],
      ['a delete marker\'s VersionId', { Bucket: bucket, Key: 'deleted', VersionId: deleteMarker }, 'version-not-found'],
      ['another key\'s VersionId', { Bucket: bucket, Key: 'deleted', VersionId: otherKeysVersion }, 'version-not-found'],
      ['a malformed VersionId', { Bucket: bucket, Key: 'deleted', VersionId: 'not a version!' }, 'version-not-found'],
      ['a VersionId of a key never written', { Bucket: bucket, Key: 'never', VersionId: deletedVersion }, 'version-not-found'],
      // a HEAD answer has no body, so radosgw's NoSuchBucket reads as any other 404 there
      ['a missing bucket', { Bucket: missingBucket, Key: 'k' }, read === 'GET' ? 'bucket-not-found' : 'key-not-found'],
      ['a VersionId in a missing bucket', { Bucket: missingBucket, Key: 'k', VersionId: deletedVersion }, read === 'GET' ? 'bucket-not-found' : 'version-not-found'],
    ]
    for (const [what, input, expected] of cases) {
      const kind = await kindOf(s3, read, input)
      t.equal(kind, expected, `${read} of ${what}`)
      t.ok(isNotFound(kind), `${read} of ${what} is a kind of not found`)
    }
  }
  // the version that was deleted is still readable by its VersionId: the cases above are not all "deleted"
  await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'deleted', VersionId: deletedVersion }))
  t.equal(await kindOf(s3, 'GET', { Bucket: bucket, Key: 'other', VersionId: otherKeysVersion, Range: 'bytes=100-200' }), 'refused',
    'a range past the end (416) is refused: neither missing nor worth retrying')
})

t.test('radosgw: unknown credentials are rejected and an anonymous read is denied', async (t) => {
  const bucket = await createTestBucket(t, s3)
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }))
  const stranger = createS3Client(S3_SETTINGS, { accessKeyId: `nobody-${randomBytes(4).toString('hex')}`, secretAccessKey: 'secret' })
  t.equal(await kindOf(stranger, 'GET', { Bucket: bucket, Key: 'k' }), 'credentials-rejected', 'GET with an unknown access key')
  t.equal(await kindOf(stranger, 'HEAD', { Bucket: bucket, Key: 'k' }), 'access-denied', 'HEAD with an unknown access key (no body to tell why)')
  const anonymous = new S3Client({
    region: S3_SETTINGS.region,
    endpoint: S3_SETTINGS.endpoint,
    forcePathStyle: true,
    // unsigned requests: radosgw's answer to a client without credentials on a private bucket
    signer: { sign: async (request) => request },
    credentials: { accessKeyId: '', secretAccessKey: '' },
  })
  t.equal(await kindOf(anonymous, 'GET', { Bucket: bucket, Key: 'k' }), 'access-denied')
  t.equal(await kindOf(anonymous, 'HEAD', { Bucket: bucket, Key: 'k' }), 'access-denied')
})

t.test('an S3 that does not answer is transient, and so is an error that is not an S3 answer', async (t) => {
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise((resolve) => closed.close(resolve))
  t.equal(await kindOf(clientOf(port), 'GET', { Bucket: 'b', Key: 'k', VersionId: 'v' }), 'transient', 'connection refused')
  t.equal(classifyS3Error(new Error('connection closed after 10 of 20 bytes')), 'transient')
  t.equal(classifyS3Error(undefined), 'transient')
})

/** AWS's documented answers (GetObject and HeadObject error responses), replayed by a fake endpoint. */
const AWS_ANSWERS: Record<string, { status: number, code: string, message: string }> = {
  'no-such-version': { status: 404, code: 'NoSuchVersion', message: 'The specified version does not exist.' },
  'no-such-key': { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.' },
  'no-such-bucket': { status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist' },
  'malformed-version': { status: 400, code: 'InvalidArgument', message: 'Invalid version id specified' },
  'delete-marker': { status: 405, code: 'MethodNotAllowed', message: 'The specified method is not allowed against this resource.' },
  'access-denied': { status: 403, code: 'AccessDenied', message: 'Access Denied' },
  'unknown-access-key': { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' },
  'bad-signature': { status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' },
  'expired-token': { status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' },
  'request-timeout': { status: 400, code: 'RequestTimeout', message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  'slow-down': { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' },
  'internal-error': { status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
}

t.test('AWS: NoSuchVersion, a malformed VersionId (400) and a delete marker (405) are missing versions; the rest keep their meaning', async (t) => {
  const server = createServer((request, response) => {
    const key = (request.url ?? '').split('?')[0]!.split('/').pop()!
    const answer = AWS_ANSWERS[key]!
    response.writeHead(answer.status, { 'content-type': 'application/xml', 'x-amz-request-id': 'R' })
    // HEAD answers carry no body, hence no error code: only the status tells what happened
    response.end(request.method === 'HEAD'
      ? undefined
      : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${answer.code}</Code><Message>${answer.message}</Message><RequestId>R</RequestId></Error>`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const aws = clientOf((server.address() as AddressInfo).port)

  const expected: Record<string, Record<Read, [withVersion: S3ErrorKind, withoutVersion: S3ErrorKind]>> = {
    'no-such-version': { GET: ['version-not-found', 'key-not-found'], HEAD: ['version-not-found', 'key-not-found'] },
    'no-such-key': { GET: ['version-not-found', 'key-not-found'], HEAD: ['version-not-found', 'key-not-found'] },
    'no-such-bucket': { GET: ['bucket-not-found', 'bucket-not-found'], HEAD: ['version-not-found', 'key-not-found'] },
    'malformed-version': { GET: ['version-not-found', 'refused'], HEAD: ['version-not-found', 'refused'] },
    'delete-marker': { GET: ['version-not-found', 'refused'], HEAD: ['version-not-found', 'refused'] },
    'access-denied': { GET: ['access-denied', 'access-denied'], HEAD: ['access-denied', 'access-denied'] },
    'unknown-access-key': { GET: ['credentials-rejected', 'credentials-rejected'], HEAD: ['access-denied', 'access-denied'] },
    'bad-signature': { GET: ['credentials-rejected', 'credentials-rejected'], HEAD: ['access-denied', 'access-denied'] },
    // without a body a 400 naming a version cannot be told from a malformed VersionId
    'expired-token': { GET: ['refused', 'refused'], HEAD: ['version-not-found', 'refused'] },
    'request-timeout': { GET: ['transient', 'transient'], HEAD: ['version-not-found', 'refused'] },
    'slow-down': { GET: ['transient', 'transient'], HEAD: ['transient', 'transient'] },
    'internal-error': { GET: ['transient', 'transient'], HEAD: ['transient', 'transient'] },
  }
  for (const [key, reads] of Object.entries(expected)) {
    for (const read of ['GET', 'HEAD'] as const) {
      const [withVersion, withoutVersion] = reads[read]
      t.equal(await kindOf(aws, read, { Bucket: 'b', Key: key, VersionId: 'v1' }), withVersion, `${read} ${key} naming a version`)
      t.equal(await kindOf(aws, read, { Bucket: 'b', Key: key }), withoutVersion, `${read} ${key} naming none`)
    }
  }
})
