import { Readable } from 'node:stream'
import { DeleteObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import {
  InvalidInputError, ModelExistsError, ModelNotFoundError, ReleaseNotFoundError, UnknownReleaseError,
  VersionNotFoundError,
} from '../src/registry/errors.js'
import { snapshotTables, type DatabaseSnapshot } from './helpers/database-snapshot.js'
import { createTestRegistry, DATABASE_KINDS, registerModelWithReleases } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: bad input is refused with a clear error and changes neither the database nor the bucket`, async (t) => {
    const { registry, bucket, database, s3 } = await createTestRegistry(t, kind)
    const [release] = await registerModelWithReleases(registry, bucket, 'resnet', 1)
    await registry.promote('resnet', 'production', { release: 1 }, 'setup')
    const labelsMarker = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'resnet/labels.txt' }))

    const snapshot = async (): Promise<{ tables: DatabaseSnapshot, s3Versions: string[] }> => {
      const tables = await snapshotTables(database.db)
      const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }))
      const s3Versions = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => `${v.Key!}@${v.VersionId!}`).sort()
      return { tables, s3Versions }
    }
    const before = await snapshot()
    t.ok(before.tables.artifact_digests?.length, 'the snapshot holds the recorded digests too')
    t.ok(before.tables.kysely_migration?.length, 'and the migrations applied')
    const good = { weightsVersionId: release!.weightsVersionId, labelsVersionId: release!.labelsVersionId }

    // unknown model, release, alias
    await t.rejects(registry.getModel('nope'), ModelNotFoundError)
    await t.rejects(registry.createRelease('nope', good, 'bob'), ModelNotFoundError)
    await t.rejects(registry.promote('nope', 'production', { release: 1 }, 'bob'), ModelNotFoundError)
    await t.rejects(registry.uploadArtifact('nope', 'weights', Readable.from(['x'])), ModelNotFoundError)
    await t.rejects(registry.listArtifactVersions('nope', 'weights', { limit: 5 }), ModelNotFoundError)
    await t.rejects(registry.getRelease('resnet', 99), ReleaseNotFoundError)
    await t.rejects(registry.promote('resnet', 'production', { release: 99 }, 'bob'), UnknownReleaseError)
    await t.rejects(registry.promote('resnet', 'brand-new', { release: 99 }, 'bob'), UnknownReleaseError)
    await t.rejects(registry.rollback('resnet', 'production', { to: 99 }, 'bob'), UnknownReleaseError)
    await t.rejects(registry.startCanary('resnet', 'production', { release: 99, weight: 0.5 }, 'bob'), UnknownReleaseError)

    // S3 versions that do not exist, each error naming which one
    await t.rejects(registry.createRelease('resnet', { ...good, weightsVersionId: 'not-a-version' }, 'bob'), {
      constructor: VersionNotFoundError,
      message: new RegExp(`weightsVersionId: s3://${bucket}/resnet/model\\.onnx has no version not-a-version`),
    })
    await t.rejects(registry.createRelease('resnet', { ...good, labelsVersionId: 'also-missing' }, 'bob'), {
      constructor: VersionNotFoundError,
      message: new RegExp(`labelsVersionId: s3://${bucket}/resnet/labels\\.txt has no version also-missing`),
    })
    await t.rejects(registry.createRelease('resnet', { ...good, labelsVersionId: labelsMarker.VersionId! }, 'bob'),
      VersionNotFoundError, 'a delete marker is not releasable')
    await t.rejects(registry.createRelease('resnet', { ...good, weightsVersionId: good.labelsVersionId }, 'bob'),
      VersionNotFoundError, 'a version of the other key')
    await t.rejects(registry.createRelease('resnet', { ...good, weightsVersionId: '' }, 'bob'), InvalidInputError)
    await t.rejects(registry.createRelease('resnet', { ...good, notes: 42 as never }, 'bob'), InvalidInputError)

    // names with "/", "..", control characters, capitals, or too long; bad fields
    for (const name of ['a/b', '..', 'a..b', '../etc', 'x\u0000y', 'tab\there', 'Resnet', '', '-lead', 'x'.repeat(64)]) {
      await t.rejects(registry.createModel({ name, bucket, weightsKey: 'w', labelsKey: 'l' }, 'admin'), InvalidInputError, JSON.stringify(name))
      await t.rejects(registry.promote('resnet', name, { release: 1 }, 'bob'), InvalidInputError, `alias ${JSON.stringify(name)}`)
      await t.rejects(registry.getModel(name), InvalidInputError)
    }
    await t.rejects(registry.createModel({ name: 'ok', bucket, weightsKey: 'w\u0007', labelsKey: 'l' }, 'admin'), { message: /weightsKey/ })
    await t.rejects(registry.createModel({ name: 'ok', bucket, weightsKey: 'w', labelsKey: '' }, 'admin'), { message: /labelsKey/ })
    await t.rejects(registry.createModel({ name: 'ok', bucket: 'a/b', weightsKey: 'w', labelsKey: 'l' }, 'admin'), { message: /bucket/ })
    await t.rejects(registry.createModel({ name: 'ok', bucket, weightsKey: 'w', labelsKey: 'l', deployAlias: 'a/b' }, 'admin'), { message: /deployAlias/ })
    await t.rejects(registry.createModel({ name: 'ok', bucket, weightsKey: 'w', labelsKey: 'l', functionAlias: '123' }, 'admin'), { message: /functionAlias/ })
    await t.rejects(registry.createModel({ name: 'ok', bucket, weightsKey: 'w', labelsKey: 'l', gateImages: [{ bucket, key: '' }] }, 'admin'), { message: /gateImages\[0\]\.key/ })
    await t.rejects(registry.createModel({ name: 'resnet', bucket, weightsKey: 'w', labelsKey: 'l' }, 'admin'), ModelExistsError)
    await t.rejects(registry.updateModel('resnet', { weightsKey: 'elsewhere.onnx' }, 'admin'), InvalidInputError, 'releases pin the keys')
    await t.rejects(registry.updateModel('resnet', { functionAlias: '' }, 'admin'), InvalidInputError)
    await t.rejects(registry.promote('resnet', 'production', { release: 1, ifMatch: -1 }, 'bob'), InvalidInputError)
    await t.rejects(registry.promote('resnet', 'production', { release: 1.5 }, 'bob'), InvalidInputError)
    await t.rejects(registry.promote('resnet', 'production', { release: 1 }, ''), InvalidInputError, 'an actor is required')
    await t.rejects(registry.history('resnet', 'production', { limit: 0 }), InvalidInputError)
    await t.rejects(registry.listArtifactVersions('resnet', 'bias' as never, { limit: 5 }), InvalidInputError)
    await t.rejects(registry.listArtifactVersions('resnet', 'weights', { limit: 5, cursor: '!!' }), InvalidInputError)
    await t.rejects(registry.predict('resnet', { image: 'not an image' }), InvalidInputError)
    await t.rejects(registry.predict('resnet', { image: { base64: '' }, topK: 0 }), InvalidInputError)

    // an upload with no body
    await t.rejects(registry.uploadArtifact('resnet', 'weights', Readable.from([])), InvalidInputError)

    t.same(await snapshot(), before, 'every table and every S3 version as before')
  })
}
