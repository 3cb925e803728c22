import { createHash } from 'node:crypto'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import { REGISTRY_MIGRATIONS, migrateToLatest } from '../src/registry/db.js'
import { Registry } from '../src/registry/registry.js'
import { DATABASE_KINDS, migrationsUpTo, openTestDatabase } from './helpers/registry.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')
const s3 = testS3Client()

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a database with releases from before the digest table lists their versions with the digests they recorded`, async (t) => {
    const bucket = await createTestBucket(t, s3)
    const database = await openTestDatabase(t, kind, { migrate: false })
    const firstOnly = { getMigrations: async () => ({ '0001-registry': REGISTRY_MIGRATIONS['0001-registry']! }) }
    t.same(await migrateToLatest(database.db, firstOnly), ['0001-registry'])

    // What the registry of that time wrote: two models over the same objects, and releases sharing a labels version.
    const put = async (key: string, body: string): Promise<string> =>
      (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!
    const labels = await put('labels.txt', 'cat\n')
    const weights = [await put('model.onnx', 'weights 1'), await put('model.onnx', 'weights 2'), await put('model.onnx', 'weights 3')]
    const now = new Date().toISOString()
    for (const name of ['resnet', 'resnet-copy']) {
      await database.db.insertInto('models').values({
        name,
        bucket,
        weights_key: 'model.onnx',
        labels_key: 'labels.txt',
        function_name: null,
        function_alias: 'live',
        deploy_alias: 'production',
        gate_images: '[]',
        created_at: now,
        updated_at: now,
      }).execute()
      for (const [i, versionId] of weights.slice(0, 2).entries()) {
        await database.db.insertInto('releases').values({
          model: name,
          number: i + 1,
          weights_version_id: versionId,
          labels_version_id: labels,
          weights_sha256: sha256(`weights ${i + 1}`),
          labels_sha256: sha256('cat\n'),
          weights_size: 9,
          labels_size: 4,
          notes: null,
          created_at: now,
          created_by: 'admin',
        }).execute()
      }
    }

    t.same(await migrateToLatest(database.db, migrationsUpTo('0002-artifact-digests')), ['0002-artifact-digests'])
    await migrateToLatest(database.db)
    const registry = new Registry({ db: database.db, store: new S3ArtifactStore({ s3 }) })
    const listed = await registry.listArtifactVersions('resnet', 'weights', { limit: 10 })
    t.same(listed.versions.map((v) => [v.versionId, v.sha256]), [
      [weights[2], null],
      [weights[1], sha256('weights 2')],
      [weights[0], sha256('weights 1')],
    ], 'released versions keep their digests; the never-released one has none')
    t.same((await registry.listArtifactVersions('resnet-copy', 'labels', { limit: 10 })).versions.map((v) => v.sha256), [sha256('cat\n')])
    const rows = await database.db.selectFrom('artifact_digests').select(['key', 'version_id', 'size']).execute()
    t.equal(rows.length, 3, 'one row per version, however many releases and models name it')
    t.ok(rows.every((row) => row.size === (row.key === 'labels.txt' ? 4 : 9)), 'with the sizes the releases recorded')
  })
}
