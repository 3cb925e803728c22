import { createHash } from 'node:crypto'
import { DeleteObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { build } from './helpers/app.js'

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

t.test('three uploads and a delete of the weights key: four versions newest first, the marker flagged, pages of 2 walk them all', async (t) => {
  const { api, createModel, upload, s3, bucket } = await build(t)
  t.equal((await createModel('resnet')).status, 201)
  const bodies = ['weights one', 'weights two', 'weights three']
  const uploaded = []
  for (const body of bodies) {
    const res = await upload('resnet', 'weights', body)
    t.equal(res.status, 201)
    t.same(res.body, { versionId: res.body.versionId, size: body.length, sha256: sha256(body) })
    uploaded.push(res.body.versionId as string)
  }
  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'resnet/model.onnx' }))
  t.equal(deleted.DeleteMarker, true)

  const all = await api('GET', '/v1/models/resnet/artifacts/weights/versions')
  t.equal(all.status, 200)
  t.equal(all.body.nextCursor, null)
  const versions = all.body.versions
  t.equal(versions.length, 4)
  t.match(versions[0], { versionId: deleted.VersionId, deleteMarker: true, isLatest: true, size: null, sha256: null })
  t.same(versions.slice(1).map((v: { versionId: string }) => v.versionId), [...uploaded].reverse(), 'uploads newest first')
  for (const [i, v] of versions.slice(1).entries()) {
    const body = bodies[bodies.length - 1 - i]!
    t.match(v, { deleteMarker: false, isLatest: false, size: body.length, sha256: sha256(body) })
    t.ok(Date.parse(v.lastModified) > 0)
  }

  const walked = []
  const pages = []
  let cursor: string | null = null
  do {
    const url: string = `/v1/models/resnet/artifacts/weights/versions?limit=2${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const page = await api('GET', url)
    t.equal(page.status, 200)
    pages.push(page.body.versions.length)
    walked.push(...page.body.versions)
    cursor = page.body.nextCursor
  } while (cursor !== null && pages.length < 10)
  t.same(pages, [2, 2], 'two pages of two')
  t.same(walked, versions, 'the pages together are the whole listing')

  const labels = await api('GET', '/v1/models/resnet/artifacts/labels/versions')
  t.same(labels.body, { versions: [], nextCursor: null }, 'the labels key has no versions of its own')
})

t.test('a bad cursor, an out-of-range limit and an unknown kind are refused with 400', async (t) => {
  const { api, createModel } = await build(t)
  await createModel('resnet')
  for (const url of [
    '/v1/models/resnet/artifacts/weights/versions?cursor=not-a-cursor',
    '/v1/models/resnet/artifacts/weights/versions?limit=0',
    '/v1/models/resnet/artifacts/weights/versions?limit=1001',
    '/v1/models/resnet/artifacts/weights/versions?limit=two',
    '/v1/models/resnet/artifacts/bias/versions',
  ]) {
    const res = await api('GET', url)
    t.equal(res.status, 400, url)
    t.equal(res.body.error.code, 'invalid_input', url)
  }
})
