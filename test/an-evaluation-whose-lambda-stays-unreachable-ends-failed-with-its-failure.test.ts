import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { startMoveWorld, waitFor } from './helpers/move-world.js'
import { testS3Client } from './helpers/s3.js'

const INVOCATIONS = /^\/2015-03-31\/functions\/fn\/invocations/

t.test('Lambda resetting every invocation: each is retried three times, then the evaluation ends failed, never running', async (t) => {
  const world = await startMoveWorld(t, { database: 'sqlite', handler: 'answers-by-release.mjs', env: { MODELPIN_EVALUATION_CONCURRENCY: '1' } })
  const { api, proxy, process } = await world.startApi()
  await world.registerModel(api, 2)
  t.equal((await api.post('/v1/models/m/aliases/production/promote', { release: 1 })).status, 200)
  const s3 = testS3Client()
  t.teardown(() => { s3.destroy() })
  for (let i = 0; i < 5; i++) await s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: `in/${i}.jpg`, Body: `image ${i}` }))
  await s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: 'in/notes.txt', Body: 'not an image' }))

  const resets = proxy.add({ method: 'POST', path: INVOCATIONS, action: { kind: 'reset' } })
  const created = (await api.post('/v1/models/m/evaluations', { candidate: 2, inputs: { bucket: world.bucket, prefix: 'in/' } })).body
  const path = `/v1/models/m/evaluations/${created.id as string}`
  const failed = await waitFor(async () => {
    const read = (await api.get(path)).body
    return read.status === 'running' ? undefined : read
  })
  // the first input's two sides got no answer (each an error of its side), the second input's first side neither: a third in a row
  t.match(failed, {
    status: 'failed',
    failure: /^Lambda unreachable: 3 invocations of .* got no answer after 3 retries/,
    completed: 1,
    errors: { baseline: 1, candidate: 1 },
    verdict: null,
  })
  t.match(failed.finishedAt, /^\d{4}-/)
  // each try is one Invoke of the SDK, whose client makes at most 2 attempts (maxAttempts in src/deploy)
  t.equal(resets.hits, 3 * (1 + 3) * 2, 'three invocations, each tried once and retried three times, before it gave up')
  t.match(await fetch(`${process.url}/metrics`).then(async (r) => await r.text()), /modelpin_evaluations_total\{outcome="failed"\} 1/)

  // Lambda back: a new evaluation runs to its end; the file that is not an image is an error on both sides
  proxy.clear()
  const again = (await api.post('/v1/models/m/evaluations', { candidate: 2, inputs: { bucket: world.bucket, prefix: 'in/' } })).body
  const done = await waitFor(async () => {
    const read = (await api.get(`/v1/models/m/evaluations/${again.id as string}`)).body
    return read.status === 'running' ? undefined : read
  })
  t.match(done, { status: 'succeeded', completed: 6, errors: { candidate: 1, baseline: 1 }, agreement: { top1: 0 } })
  const listed = (await api.get('/v1/models/m/evaluations')).body.evaluations
  t.same(listed.map((e: { id: string, status: string }) => [e.id, e.status]), [[again.id, 'succeeded'], [created.id, 'failed']], 'newest first')
})
