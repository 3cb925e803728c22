import { createHash } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import { BucketNotFoundError, InvalidInputError, VersionNotFoundError } from '../src/registry/errors.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'

const s3 = testS3Client()
const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex')

async function text (stream: Readable): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

async function tmpFolder (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'modelpin-store-'))
  t.teardown(() => rm(folder, { recursive: true, force: true }))
  return folder
}

t.test('three uploads and a delete list as four entries newest first, the delete marker flagged, in pages', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const store = new S3ArtifactStore({ s3, tmpDir: await tmpFolder(t) })
  const loc = { bucket, key: 'resnet/model.onnx' }
  // a longer key that starts with this one: a prefix listing returns it too, the store must not
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'resnet/model.onnx.bak', Body: 'other' }))

  const uploads = []
  for (const body of ['one', 'two', 'three']) {
    uploads.push(await store.upload(loc, Readable.from([Buffer.from(body)])))
  }
  t.same(uploads.map((u) => u.size), [3, 3, 5])
  t.same(uploads.map((u) => u.sha256), ['one', 'two', 'three'].map(sha256))
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: loc.key }))
  t.ok(deleted.DeleteMarker)

  const all = await store.listVersions(loc, { limit: 10 })
  t.equal(all.nextCursor, null)
  t.same(all.versions.map((v) => v.versionId), [deleted.VersionId, ...uploads.map((u) => u.versionId).reverse()])
  t.same(all.versions.map((v) => v.deleteMarker), [true, false, false, false])
  t.same(all.versions.map((v) => v.isLatest), [true, false, false, false])
  t.same(all.versions.map((v) => v.sha256), [null, null, null, null],
    'no digests: S3 lists no metadata and the store sends no HEAD per version (the registry adds the digests it recorded)')
  t.same(all.versions.map((v) => v.size), [null, 5, 3, 3])
  t.equal(all.versions[1]?.etag, createHash('md5').update('three').digest('hex'))
  const times = all.versions.map((v) => Date.parse(v.lastModified))
  t.same([...times].sort((a, b) => b - a), times, 'lastModified descends')

  const walked = []
  let cursor: string | undefined
  let pages = 0
  do {
    const page = await store.listVersions(loc, { limit: 2, ...(cursor === undefined ? {} : { cursor }) })
    t.ok(page.versions.length <= 2)
    walked.push(...page.versions)
    cursor = page.nextCursor ?? undefined
    pages++
  } while (cursor !== undefined && pages < 10)
  t.same(walked, all.versions, 'pages of two walk every entry once, in order')
  t.ok(pages >= 2)

  const fresh = new S3ArtifactStore({ s3 })
  t.same((await fresh.listVersions(loc, { limit: 10 })).versions, all.versions, 'a new store lists the same entries')
})

t.test('a version is headed, read and hashed by its VersionId; unknown ones are null or VersionNotFoundError', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const store = new S3ArtifactStore({ s3, tmpDir: await tmpFolder(t) })
  const loc = { bucket, key: 'labels.txt' }
  const first = await store.upload(loc, Readable.from(['cat\n', 'dog\n']), { contentType: 'text/plain' })
  await store.upload(loc, Readable.from(['fish\n']))
  // an object put without the sha256 metadata: its digest must be computed from its bytes
  const plain = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: loc.key, Body: 'bird\n' }))

  const head = await store.headVersion(loc, first.versionId)
  t.same({ size: head?.size, sha256: head?.sha256 }, { size: 8, sha256: sha256('cat\ndog\n') })
  t.match(head?.lastModified, /^\d{4}-\d\d-\d\dT/)
  t.equal((await store.headVersion(loc, plain.VersionId!))?.sha256, null)
  t.equal(await text(await store.readVersion(loc, first.versionId)), 'cat\ndog\n', 'the old version, not the latest')
  t.equal(await store.sha256Of(loc, plain.VersionId!), sha256('bird\n'))

  t.equal(await store.headVersion(loc, 'no-such-version-id'), null)
  t.equal(await store.headVersion({ bucket, key: 'other-key' }, first.versionId), null)
  await t.rejects(store.readVersion(loc, 'no-such-version-id'), VersionNotFoundError)
  await t.rejects(store.sha256Of(loc, 'no-such-version-id'), { message: /no-such-version-id/ })
  const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: loc.key }))
  t.equal(await store.headVersion(loc, marker.VersionId!), null, 'a delete marker is no version to read')
})

t.test('an empty or failing upload adds no version and leaves no temporary file', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const folder = await tmpFolder(t)
  const store = new S3ArtifactStore({ s3, tmpDir: folder })
  const loc = { bucket, key: 'model.onnx' }
  await t.rejects(store.upload(loc, Readable.from([])), InvalidInputError)
  const failing = new Readable({ read () { this.destroy(new Error('client went away')) } })
  failing.push(Buffer.alloc(1000))
  await t.rejects(store.upload(loc, failing), /client went away/)
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))
  t.equal((listed.Versions ?? []).length, 0)
  t.same(await readdir(folder), [])

  await store.upload(loc, Readable.from(['x']))
  t.same(await readdir(folder), [], 'removed after success too')
})

t.test('listing refuses bad limits and foreign cursors, and names a missing bucket', async (t) => {
  const bucket = await createTestBucket(t, s3)
  const store = new S3ArtifactStore({ s3 })
  const loc = { bucket, key: 'a' }
  for (let i = 0; i < 3; i++) await store.upload(loc, Readable.from([String(i)]))
  const page = await store.listVersions(loc, { limit: 1 })
  t.ok(page.nextCursor)
  await t.rejects(store.listVersions({ bucket, key: 'b' }, { limit: 1, cursor: page.nextCursor! }), InvalidInputError)
  await t.rejects(store.listVersions(loc, { limit: 1, cursor: 'garbage' }), InvalidInputError)
  await t.rejects(store.listVersions(loc, { limit: 0 }), InvalidInputError)
  await t.rejects(store.listVersions(loc, { limit: 1001 }), InvalidInputError)
  await t.rejects(store.listVersions({ bucket: `${bucket}-missing`, key: 'a' }, { limit: 1 }), BucketNotFoundError)
  await store.ping()
})
