import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import type { ArtifactVersion } from '../src/registry/model.js'
import { Registry } from '../src/registry/registry.js'
import { createTestRegistry, DATABASE_KINDS } from './helpers/registry.js'

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

async function listAll (registry: Registry, limit: number): Promise<ArtifactVersion[]> {
  const walked: ArtifactVersion[] = []
  let cursor: string | undefined
  do {
    const page = await registry.listArtifactVersions('resnet', 'weights', { limit, ...(cursor === undefined ? {} : { cursor }) })
    walked.push(...page.versions)
    cursor = page.nextCursor ?? undefined
  } while (cursor !== undefined)
  return walked
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: uploads list with their sha256, versions put behind modelpin's back with null until a release registers them`, async (t) => {
    const { registry, database, s3, bucket } = await createTestRegistry(t, kind)
    await registry.createModel({ name: 'resnet', bucket, weightsKey: 'resnet/model.onnx', labelsKey: 'resnet/labels.txt' }, 'admin')
    const labels = await registry.uploadArtifact('resnet', 'labels', Readable.from(['cat\ndog\n']))

    const uploaded = await registry.uploadArtifact('resnet', 'weights', Readable.from(['weights one']))
    // put by another tool: one without any metadata, one with a sha256 in its metadata that modelpin never checked
    const bare = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'resnet/model.onnx', Body: 'weights two' }))
    const tagged = await s3.send(new PutObjectCommand({
      Bucket: bucket, Key: 'resnet/model.onnx', Body: 'weights three', Metadata: { sha256: sha256('weights three') },
    }))
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'resnet/model.onnx' }))

    const before = await registry.listArtifactVersions('resnet', 'weights', { limit: 10 })
    t.equal(before.nextCursor, null)
    t.same(before.versions.map((v) => [v.versionId, v.deleteMarker, v.sha256]), [
      [marker.VersionId, true, null],
      [tagged.VersionId, false, null],
      [bare.VersionId, false, null],
      [uploaded.versionId, false, sha256('weights one')],
    ], 'only the version uploaded through modelpin has a known digest; the others are honestly null')

    const second = await registry.createRelease('resnet', { weightsVersionId: bare.VersionId!, labelsVersionId: labels.versionId }, 'admin')
    t.equal(second.weightsSha256, sha256('weights two'), 'computed from the bytes, since the version carries no metadata')
    const third = await registry.createRelease('resnet', { weightsVersionId: tagged.VersionId!, labelsVersionId: labels.versionId }, 'admin')
    t.equal(third.weightsSha256, sha256('weights three'), 'read from the metadata')

    const after = await registry.listArtifactVersions('resnet', 'weights', { limit: 10 })
    t.same(after.versions.map((v) => v.sha256), [null, sha256('weights three'), sha256('weights two'), sha256('weights one')],
      'a registered release makes its versions\' digests known; a delete marker never has one')
    t.same(after.versions.map(({ sha256, ...rest }) => rest), before.versions.map(({ sha256, ...rest }) => rest),
      'everything but the digests is what the listing said before')
    t.same((await registry.listArtifactVersions('resnet', 'labels', { limit: 10 })).versions.map((v) => v.sha256), [sha256('cat\ndog\n')],
      'the labels upload too')

    t.same(await listAll(registry, 1), after.versions, 'pages of one walk the same entries with the same digests')
    t.same(await listAll(registry, 3), after.versions, 'and so do pages of three')

    // another API replica (or the same one after a restart): the digests come from the database, not from memory
    const otherStore = new S3ArtifactStore({ s3 })
    const replica = new Registry({ db: database.db, store: otherStore })
    t.same((await replica.listArtifactVersions('resnet', 'weights', { limit: 10 })).versions, after.versions,
      'a new registry and store over the same database list the same digests')

    const byVersion = (a: { version_id: string }, b: { version_id: string }): number => a.version_id.localeCompare(b.version_id)
    const rows = await database.db.selectFrom('artifact_digests').select(['bucket', 'key', 'version_id', 'sha256', 'size'])
      .where('key', '=', 'resnet/model.onnx').execute()
    t.same(rows.sort(byVersion), [
      { bucket, key: 'resnet/model.onnx', version_id: uploaded.versionId, sha256: sha256('weights one'), size: 11 },
      { bucket, key: 'resnet/model.onnx', version_id: bare.VersionId!, sha256: sha256('weights two'), size: 11 },
      { bucket, key: 'resnet/model.onnx', version_id: tagged.VersionId!, sha256: sha256('weights three'), size: 13 },
    ].sort(byVersion), 'one row per version the registry learnt a digest for, with its size')
  })

  t.test(`${kind}: registering the same version in a second release records its digest once and keeps it`, async (t) => {
    const { registry, database, s3, bucket } = await createTestRegistry(t, kind)
    await registry.createModel({ name: 'resnet', bucket, weightsKey: 'resnet/model.onnx', labelsKey: 'resnet/labels.txt' }, 'admin')
    const weights = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'resnet/model.onnx', Body: 'weights' }))
    const labels = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'resnet/labels.txt', Body: 'cat\n' }))
    const input = { weightsVersionId: weights.VersionId!, labelsVersionId: labels.VersionId! }
    const [a, b] = await Promise.all([registry.createRelease('resnet', input, 'admin'), registry.createRelease('resnet', input, 'admin')])
    t.same([a.number, b.number].sort(), [1, 2], 'two registrations of the same versions at once both succeed')
    t.equal(a.labelsSha256, sha256('cat\n'), 'both computed the digests')
    t.equal(b.weightsSha256, sha256('weights'), 'both computed the digests')
    const rows = await database.db.selectFrom('artifact_digests').select(['key', 'sha256']).orderBy('key').execute()
    t.same(rows, [
      { key: 'resnet/labels.txt', sha256: sha256('cat\n') },
      { key: 'resnet/model.onnx', sha256: sha256('weights') },
    ], 'one row per version')
  })
}
