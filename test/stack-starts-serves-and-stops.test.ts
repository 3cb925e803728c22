import t from 'tap'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { adminClient, startEndToEnd } from './helpers/e2e.js'
import { startTestStack } from './helpers/stack.js'
import { waitForOutput } from './helpers/local-runtime-e2e.js'
import { emptyBucket, testS3Client } from './helpers/s3.js'

t.test('the stack brings up every part, seeds two releases with production on 1, and writes stack.json', async (t) => {
  const { stack, api } = await startEndToEnd(t)
  const dataDir = join(stack.info.adminTokenFile, '..')
  const written = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8'))
  t.same(written.endpoints, stack.info.endpoints)
  t.equal((await readFile(stack.info.adminTokenFile, 'utf8')), `${stack.token}\n`)
  t.equal(stack.registry, 'created')

  const releases = (await api.get('/v1/models/resnet50/releases')).body
  t.equal(releases.releases.length, 2)
  const alias = (await api.get('/v1/models/resnet50/aliases/production')).body
  t.equal(alias.release, 1)
  t.equal(alias.drift, false)
  t.equal(alias.live.pin.weightsVersionId, releases.releases.find((r: { number: number }) => r.number === 1).weightsVersionId)

  const health = await fetch(`${stack.info.endpoints.lambda}/_local/health`)
  t.equal(health.status, 200)
})

t.test('an image dropped into the input bucket produces its prediction in the output bucket', async (t) => {
  const { stack, s3 } = await startEndToEnd(t)
  const image = await readFile(join(import.meta.dirname, 'fixtures/photo-500x375.jpg'))
  await s3.send(new PutObjectCommand({ Bucket: stack.info.buckets.input, Key: 'in/photo 1.jpg', Body: image }))
  const result = await waitForOutput(stack, s3, stack.info.buckets.output, 'in/photo 1.jpg.json')
  t.equal(result.input.key, 'in/photo 1.jpg')
  t.equal(result.input.bucket, stack.info.buckets.input)
  t.equal(result.predictions.length, 5)
  t.equal(result.model.bucket, stack.info.buckets.models)
})

t.test('a second start on the same data dir with S3 kept keeps the registry and serves production again', async (t) => {
  const first = await startTestStack(t)
  const dataDir = join(first.info.adminTokenFile, '..')
  const token = first.token
  await first.close()
  const second = await startTestStack(t, { dataDir, buckets: first.info.buckets })
  t.equal(second.registry, 'kept')
  t.equal(second.token, token, 'the admin token stays valid')
  const alias = (await adminClient(second.info.endpoints.api, second.token).get('/v1/models/resnet50/aliases/production')).body
  t.equal(alias.release, 1)
  t.not(alias.live, null, 'the fresh runtime serves production again')
  t.equal(alias.drift, false)
  t.ok(await stat(join(dataDir, 'registry.db')))
})

t.test('a start whose S3 lost its objects resets the registry, says so, and keeps the admin token', async (t) => {
  const first = await startTestStack(t)
  const dataDir = join(first.info.adminTokenFile, '..')
  const token = first.token
  await first.close()
  // what a radosgw restart does to the memstore: every object of the model bucket is gone
  const s3 = testS3Client()
  t.teardown(() => s3.destroy())
  await emptyBucket(s3, first.info.buckets.models)
  const said: string[] = []
  const second = await startTestStack(t, { dataDir, buckets: first.info.buckets, say: (line) => said.push(line) })
  t.equal(second.registry, 'reset')
  t.match(said.join('\n'), /registry is reset/)
  t.equal(second.token, token, 'the admin token stays valid')
  const releases = (await adminClient(second.info.endpoints.api, second.token).get('/v1/models/resnet50/releases')).body
  t.same(releases.releases.map((r: { number: number }) => r.number).sort(), [1, 2], 'the demo is registered again from scratch')
})
