import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { openDatabase } from '../src/registry/db.js'
import { startMoveWorld, waitFor } from './helpers/move-world.js'
import { testS3Client } from './helpers/s3.js'

const INVOCATIONS = /^\/2015-03-31\/functions\/fn\/invocations/
const INPUTS = 6

/**
 * An evaluation runs on one API process at a time and survives that process: the process is killed (SIGKILL) while
 * an invocation is held, after 4 of the 12 invocations (6 inputs, 2 sides, one at a time) were answered. On SQLite
 * the restarted process takes it over at start-up; on PostgreSQL a second process, already running beside the first,
 * leaves it alone while the first renews its lease and takes it over once the lease is past its TTL (3 s). Either
 * way the evaluation ends `succeeded` with every input completed, and the taker invokes only the 8 missing answers.
 */
for (const database of ['sqlite', 'postgres'] as const) {
  t.test(`${database}: an evaluation cut short by SIGKILL resumes on another process and invokes only unanswered inputs`, async (t) => {
    const world = await startMoveWorld(t, { database, handler: 'answers-by-release.mjs', env: { MODELPIN_EVALUATION_CONCURRENCY: '1' } })
    const first = await world.startApi()
    await world.registerModel(first.api, 2)
    t.equal((await first.api.post('/v1/models/m/aliases/production/promote', { release: 1 })).status, 200)
    const s3 = testS3Client()
    t.teardown(() => { s3.destroy() })
    for (let i = 0; i < INPUTS; i++) {
      await s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: `inputs/${i}.jpg`, Body: `image ${i}` }))
    }

    // 4 invocations answer, the 5th is held for good: the process dies with it in flight
    first.proxy.add({ method: 'POST', path: INVOCATIONS, action: { kind: 'forward' }, times: 4 })
    const held = first.proxy.add({ method: 'POST', path: INVOCATIONS, action: { kind: 'forward' }, until: new Promise(() => {}) })
    const created = await first.api.post('/v1/models/m/evaluations', { candidate: 2, inputs: { bucket: world.bucket, prefix: 'inputs/' }, reason: 'lease' })
    t.equal(created.status, 202, JSON.stringify(created.body))
    t.match(created.body, { status: 'running', candidate: 2, baseline: 1, inputs: { count: INPUTS }, completed: 0, verdict: null })
    const path = `/v1/models/m/evaluations/${created.body.id as string}`
    t.equal(created.location, path, 'Location names the evaluation')
    await held.matched()
    const running = (await first.api.get(path)).body
    t.match(running, { status: 'running', completed: 2 }, 'completed shows progress while it runs (2 inputs, both sides)')

    let taker
    if (database === 'postgres') {
      taker = await world.startApi()
      // the first process still renews its lease: the second one leaves the evaluation alone
      await new Promise((resolve) => setTimeout(resolve, 4000))
      t.equal(taker.proxy.count('POST', INVOCATIONS), 0, 'a live lease is not taken over')
      first.process.kill('SIGKILL')
    } else {
      first.process.kill('SIGKILL')
      await first.process.exited
      taker = await world.startApi({ dataDir: first.process.dataDir })
    }
    const finished = await waitFor(async () => {
      const read = await taker.api.get(path)
      return read.body.status === 'running' ? undefined : read.body
    })
    t.match(finished, {
      status: 'succeeded',
      failure: null,
      completed: INPUTS,
      agreement: { top1: 0, top5Overlap: 0.8 },
      errors: { candidate: 0, baseline: 0 },
      changes: [{ from: 'class 1', to: 'class 2', count: INPUTS }],
    })
    t.equal(taker.proxy.count('POST', INVOCATIONS), 2 * INPUTS - 4, 'the taker invoked only the answers that were missing')
    const listed = (await taker.api.get('/v1/models/m/evaluations')).body.evaluations
    t.same(listed.map((e: { id: string }) => e.id), [created.body.id], 'the list shows it')
    const metrics = await fetch(`${taker.process.url}/metrics`).then(async (r) => await r.text())
    t.match(metrics, /modelpin_evaluations_total\{outcome="succeeded"\} 1/, 'counted by the process that ended it')
    const logged = await taker.process.waitForLog((entry) => entry.msg === 'evaluation finished')
    t.match(logged, { evaluation: created.body.id, status: 'succeeded', inputs: INPUTS, completed: INPUTS, agreement: { top1: 0 } }, 'its figures are logged')
  })
}

t.test('sqlite: SIGTERM cuts the invocation in flight, gives the lease back with the answers so far, and the restart finishes it', async (t) => {
  const world = await startMoveWorld(t, { database: 'sqlite', handler: 'answers-by-release.mjs', env: { MODELPIN_EVALUATION_CONCURRENCY: '1' } })
  const first = await world.startApi()
  await world.registerModel(first.api, 2)
  t.equal((await first.api.post('/v1/models/m/aliases/production/promote', { release: 1 })).status, 200)
  const s3 = testS3Client()
  t.teardown(() => { s3.destroy() })
  for (let i = 0; i < 3; i++) await s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: `inputs/${i}.jpg`, Body: `image ${i}` }))
  first.proxy.add({ method: 'POST', path: INVOCATIONS, action: { kind: 'forward' }, times: 2 })
  const held = first.proxy.add({ method: 'POST', path: INVOCATIONS, action: { kind: 'forward' }, until: new Promise(() => {}) })
  const created = (await first.api.post('/v1/models/m/evaluations', { candidate: 2, inputs: { bucket: world.bucket, prefix: 'inputs/' } })).body
  await held.matched()
  first.process.kill('SIGTERM')
  t.match(await first.process.exited, { code: 0 }, 'the process stops cleanly, not held by the invocation in flight')

  const database = await openDatabase(`sqlite:${join(first.process.dataDir, 'registry.db')}`)
  const row = await database.db.selectFrom('evaluations').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow()
  const answered = await database.db.selectFrom('evaluation_inputs').select(['baseline_answer', 'candidate_answer']).where('evaluation', '=', created.id).execute()
  await database.close()
  t.match(row, { status: 'running', lease_token: null, lease_owner: null }, 'still running, its lease given back')
  t.equal(answered.flatMap((a) => [a.baseline_answer, a.candidate_answer]).filter((a) => a !== null).length, 2, 'the two answers so far are kept')

  const again = await world.startApi({ dataDir: first.process.dataDir })
  const finished = await waitFor(async () => {
    const read = (await again.api.get(`/v1/models/m/evaluations/${created.id as string}`)).body
    return read.status === 'running' ? undefined : read
  })
  t.match(finished, { status: 'succeeded', completed: 3 })
  t.equal(again.proxy.count('POST', INVOCATIONS), 4, 'the restart invoked the four missing answers only')
})
