import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { createTestRegistry, DATABASE_KINDS } from './helpers/registry.js'

const sha256 = (data: string): string => createHash('sha256').update(data).digest('hex')

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a release records sizes and sha256s, from metadata or by reading versions that carry none`, async (t) => {
    const { registry, bucket, s3 } = await createTestRegistry(t, kind)
    const model = await registry.createModel({ name: 'resnet', bucket, weightsKey: 'w.onnx', labelsKey: 'labels.txt' }, 'admin')
    t.match(model, { functionName: null, functionAlias: 'live', deployAlias: 'production', gateImages: [] })
    const weights = await registry.uploadArtifact('resnet', 'weights', Readable.from(['weights bytes']))
    t.same(weights, { versionId: weights.versionId, size: 13, sha256: sha256('weights bytes') })
    // put by some other tool, without the sha256 metadata
    const labels = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'labels.txt', Body: 'cat\ndog\n' }))

    const release = await registry.createRelease('resnet', {
      weightsVersionId: weights.versionId, labelsVersionId: labels.VersionId!, notes: 'first',
    }, 'bob')
    t.match(release, {
      model: 'resnet',
      number: 1,
      weightsVersionId: weights.versionId,
      labelsVersionId: labels.VersionId,
      weightsSha256: sha256('weights bytes'),
      labelsSha256: sha256('cat\ndog\n'),
      weightsSize: 13,
      labelsSize: 8,
      notes: 'first',
      createdBy: 'bob',
    })
    t.same(await registry.getRelease('resnet', 1), release)

    const listed = await registry.listArtifactVersions('resnet', 'labels', { limit: 10 })
    t.equal(listed.versions[0]?.sha256, sha256('cat\ndog\n'), 'a version without metadata gets its digest from the release')

    t.same(registry.pinOf(model, release), {
      bucket,
      weightsKey: 'w.onnx',
      weightsVersionId: weights.versionId,
      weightsSha256: sha256('weights bytes'),
      labelsKey: 'labels.txt',
      labelsVersionId: labels.VersionId,
      labelsSha256: sha256('cat\ndog\n'),
    })

    const updated = await registry.updateModel('resnet', { functionName: 'modelpin-inference', gateImages: [{ bucket, key: 'gate.jpg' }] }, 'admin')
    t.match(updated, { functionName: 'modelpin-inference', gateImages: [{ bucket, key: 'gate.jpg' }], weightsKey: 'w.onnx' })
    t.same(await registry.getModel('resnet'), updated)
    t.match(await registry.updateModel('resnet', { functionName: null }, 'admin'), { functionName: null })
    t.same((await registry.listModels()).map((m) => m.name), ['resnet'])
  })
}
