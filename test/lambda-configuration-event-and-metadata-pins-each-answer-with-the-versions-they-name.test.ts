import t from 'tap'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { type Classification, type S3EventResult } from '../lambda/handler.js'
import { type createTestBucket, testS3Client } from './helpers/s3.js'
import { colourPhoto } from './helpers/images.js'
import { handlerTestbed, expectedLabel, type DemoVersion } from './helpers/models.js'

const s3 = testS3Client()
const context = (id: string) => ({ awsRequestId: id, functionName: 'modelpin-inference', functionVersion: '1', getRemainingTimeInMillis: () => 30_000 })

async function setup (t: Parameters<typeof createTestBucket>[0]) {
  // The configuration pins weights 1 and labels 1.
  return await handlerTestbed(t, s3, [1, 1])
}

t.test('without a pin in the event, the configuration\'s versions answer', async (t) => {
  const { model, inputs, handler, lines } = await setup(t)
  const put = await s3.send(new PutObjectCommand({ Bucket: inputs, Key: 'red.jpg', Body: await colourPhoto('red') }))
  const out = await handler({ image: { bucket: inputs, key: 'red.jpg', versionId: put.VersionId } }, context('req-config')) as Classification
  t.equal(out.predictions[0]!.label, expectedLabel(1, 1, 'red'))
  t.equal(out.predictions.length, 5, 'topK defaults to 5')
  t.same(out.model, {
    bucket: model.bucket,
    weightsKey: model.weightsKey,
    weightsVersionId: model.weights[0],
    labelsKey: model.labelsKey,
    labelsVersionId: model.labels[0],
    release: null, // this configuration names no MODEL_RELEASE
    weightsSha256: model.sha256.weights[0],
    labelsSha256: model.sha256.labels[0],
  })
  t.ok(out.predictions[0]!.score > 0.9)
  t.ok(out.predictions.every((p, i) => i === 0 || p.score <= out.predictions[i - 1]!.score), 'best first')
  t.equal(out.environment.coldStart, true)
  t.match(out.timings, { totalMs: Number, imageMs: Number, modelMs: Number, preprocessMs: Number, inferenceMs: Number })
  // The classification's line is written in the turn of the event loop after the answer (handler.ts)
  await new Promise((resolve) => setImmediate(resolve))
  const mine = lines.filter((l) => l.requestId === 'req-config')
  t.ok(mine.length >= 2, 'the load and the classification were logged')
  t.ok(mine.some((l) => l.msg === 'classified' && l.cacheHit === false), 'the classification among them')
  t.ok(mine.every((l) => l.weightsVersionId === model.weights[0] && l.labelsVersionId === model.labels[0]), 'every line names the pins')
})

t.test('a pin in the event answers with exactly the versions it names, for every pair and colour', async (t) => {
  const { model, handler } = await setup(t)
  for (const colour of ['red', 'green', 'blue'] as const) {
    const base64 = (await colourPhoto(colour)).toString('base64')
    for (const [w, l] of [[1, 1], [1, 2], [2, 1], [2, 2]] as Array<[DemoVersion, DemoVersion]>) {
      const out = await handler({
        image: { base64 },
        model: { weightsVersionId: model.weights[w - 1], labelsVersionId: model.labels[l - 1], weightsSha256: model.sha256.weights[w - 1] },
        topK: 2,
      }, context(`req-${colour}-${w}-${l}`)) as Classification
      t.equal(out.predictions[0]!.label, expectedLabel(w, l, colour), `${colour} with weights ${w} and labels ${l}`)
      t.equal(out.predictions.length, 2)
      t.equal(out.model.weightsVersionId, model.weights[w - 1])
      t.equal(out.model.labelsVersionId, model.labels[l - 1])
    }
  }
})

t.test('an input object\'s metadata pins its own model; other records use the configuration', async (t) => {
  const { model, inputs, outputs, handler } = await setup(t)
  const image = await colourPhoto('green')
  const pinned = await s3.send(new PutObjectCommand({
    Bucket: inputs,
    Key: 'pinned/leaf.jpg',
    Body: image,
    Metadata: { 'model-weights-version-id': model.weights[1], 'model-labels-version-id': model.labels[1] },
  }))
  const plain = await s3.send(new PutObjectCommand({ Bucket: inputs, Key: 'plain/leaf.jpg', Body: image }))
  const record = (key: string, versionId: string | undefined) => ({
    eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: inputs }, object: { key, size: image.byteLength, versionId } },
  })
  const result = await handler({ Records: [record('pinned/leaf.jpg', pinned.VersionId), record('plain/leaf.jpg', plain.VersionId)] }, context('req-s3')) as S3EventResult
  t.same(result.records.map((r) => r.output), ['pinned/leaf.jpg.json', 'plain/leaf.jpg.json'])

  const read = async (key: string) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: outputs, Key: key }))).Body!.transformToString())
  const a = await read('pinned/leaf.jpg.json')
  t.equal(a.predictions[0].label, expectedLabel(2, 2, 'green'))
  t.same([a.model.weightsVersionId, a.model.labelsVersionId], [model.weights[1], model.labels[1]])
  t.equal(a.model.release, null, 'a pin from the input\'s metadata names no release')
  t.same(a.input, { bucket: inputs, key: 'pinned/leaf.jpg', versionId: pinned.VersionId })
  const b = await read('plain/leaf.jpg.json')
  t.equal(b.predictions[0].label, expectedLabel(1, 1, 'green'))
  t.same([b.model.weightsVersionId, b.model.labelsVersionId], [model.weights[0], model.labels[0]])
})
