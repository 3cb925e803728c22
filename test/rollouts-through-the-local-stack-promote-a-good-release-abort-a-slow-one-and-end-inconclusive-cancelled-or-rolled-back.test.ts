import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { buildModel } from '../src/local/demo-models/resnet.js'
import { invokeWithTestImage, lambdaAlias } from './helpers/admin-api.js'
import { startEndToEnd, succeeded, type AdminClient } from './helpers/e2e.js'
import { waitFor } from './helpers/move-world.js'

const ALIAS = '/v1/models/resnet50/aliases/production'
const ROLLOUTS = `${ALIAS}/rollouts`

/** Invokes `live` back to back (two at a time) until stopped, as production traffic would. */
function traffic (send: () => Promise<unknown>): { stop: () => Promise<number> } {
  const state = { running: true }
  let count = 0
  const worker = async (): Promise<void> => {
    while (state.running) {
      await send().catch(() => {})
      count++
    }
  }
  const workers = [worker(), worker()]
  return { stop: async () => { state.running = false; await Promise.all(workers); return count } }
}

async function finished (api: AdminClient, location: string, limitMs = 120_000): Promise<any> {
  return await waitFor(async () => {
    const read = succeeded(await api.get(location))
    return read.status === 'running' ? undefined : read
  }, limitMs)
}

t.test('rollouts through the local stack, each step a move judged on the runtime\'s CloudWatch metrics', async (t) => {
  const { stack, api, lambda, s3 } = await startEndToEnd(t)
  t.match(stack.info.endpoints.cloudwatch, /^http:\/\/127\.0\.0\.1:\d+$/, 'stack.json names the CloudWatch endpoint')

  await t.test('bad input is refused with the contract\'s codes and starts nothing', async (t) => {
    const body = { release: 2, steps: [0.2, 0.5], stepSeconds: 5 }
    t.match(await api.post(ROLLOUTS, { ...body, steps: [0.5, 0.2] }), { status: 400, body: { error: { code: 'invalid_input', message: /increase/ } } })
    t.match(await api.post(ROLLOUTS, { ...body, steps: [] }), { status: 400, body: { error: { code: 'invalid_input' } } })
    t.match(await api.post(ROLLOUTS, { ...body, steps: [0.5, 1] }), { status: 400, body: { error: { code: 'invalid_input' } } })
    t.match(await api.post(ROLLOUTS, { ...body, stepSeconds: 4 }), { status: 400, body: { error: { code: 'invalid_input' } } })
    t.match(await api.post('/v1/models/resnet50/aliases/staging/rollouts', body), { status: 400, body: { error: { code: 'invalid_input', message: /deploy alias/ } } })
    t.match(await api.post(ROLLOUTS, { ...body, release: 1 }), { status: 400, body: { error: { code: 'invalid_input', message: /serves release 1 already/ } } })
    t.match(await api.post(ROLLOUTS, { ...body, release: 9 }), { status: 422, body: { error: { code: 'unknown_release' } } })
    t.match(await api.get(`${ROLLOUTS}/nope`), { status: 404, body: { error: { code: 'rollout_not_found' } } })
    succeeded(await api.post(`${ALIAS}/canary`, { release: 2, weight: 0.1 }))
    t.match(await api.post(ROLLOUTS, body), { status: 409, body: { error: { code: 'canary_in_progress' } } })
    succeeded(await api.del(`${ALIAS}/canary`))
    t.same(succeeded(await api.get(ROLLOUTS)), { rollouts: [] }, 'no rollout was stored')
  })

  await t.test('a good release rolls out over two short steps and ends succeeded with the alias on it', async (t) => {
    const load = traffic(async () => await invokeWithTestImage(lambda, stack))
    const started = await api.post(ROLLOUTS, { release: 2, steps: [0.2, 0.5], stepSeconds: 5, criteria: { maxErrorRate: 0.05, minInvocations: 5 }, reason: 'roll out 2' })
    t.equal(started.status, 202, JSON.stringify(started.body))
    t.match(started.body, { release: 2, stableRelease: 1, status: 'running', currentStep: 0, steps: [0.2, 0.5], observations: [], failure: null, finishedAt: null })
    const location = `${ROLLOUTS}/${started.body.id as string}`
    t.match(succeeded(await api.get(ALIAS)), { release: 1, canary: { release: 2, weight: 0.2 } }, 'the first step ran before the answer')

    t.match(await api.post(`${ALIAS}/promote`, { release: 2 }), { status: 409, body: { error: { code: 'rollout_in_progress' } } })
    t.match(await api.post(`${ALIAS}/canary`, { release: 2, weight: 0.9 }), { status: 409, body: { error: { code: 'rollout_in_progress' } } })
    t.match(await api.post(`${ALIAS}/canary/promote`, {}), { status: 409, body: { error: { code: 'rollout_in_progress' } } })
    t.match(await api.post(ROLLOUTS, { release: 2, steps: [0.5], stepSeconds: 5 }), { status: 409, body: { error: { code: 'rollout_in_progress' } } })

    const done = await finished(api, location)
    await load.stop()
    t.equal(done.status, 'succeeded', JSON.stringify(done))
    t.equal(done.observations.length, 2, 'one verdict per step')
    t.same(Object.keys(done).sort(), ['actor', 'alias', 'criteria', 'currentStep', 'failure', 'finishedAt', 'id', 'model', 'observations', 'reason',
      'release', 'stableRelease', 'startedAt', 'status', 'stepSeconds', 'steps'], 'the contract\'s fields, no more')
    t.same(Object.keys(done.observations[0]).sort(), ['candidate', 'passed', 'stable', 'step', 'violations', 'weight'])
    t.same(Object.keys(done.observations[0].candidate).sort(), ['errors', 'invocations', 'p95Ms'])
    for (const [i, observation] of (done.observations as any[]).entries()) {
      t.match(observation, { step: i, weight: [0.2, 0.5][i], passed: true, violations: [] })
      t.ok(observation.candidate.invocations >= 5 && observation.stable.invocations > 0, `step ${i} saw both releases: ${JSON.stringify(observation)}`)
      t.equal(observation.candidate.errors, 0)
    }
    t.match(succeeded(await api.get(ALIAS)), { release: 2, canary: null })
    t.same(Object.keys((await lambdaAlias(lambda, stack)).weights), [], 'Lambda routes everything to release 2')
    const history = succeeded(await api.get(`${ALIAS}/history?limit=3`)).history
    t.match(history, [
      { action: 'canary-promote', actor: 'rollout', fromRelease: 1, toRelease: 2, outcome: 'succeeded' },
      { action: 'canary-step', actor: 'rollout', fromRelease: 1, toRelease: 2, outcome: 'succeeded', detail: /weight 0\.5.*candidate \d+ invocations, 0 errors/ },
      { action: 'canary-start', actor: started.body.actor, fromRelease: 1, toRelease: 2, reason: 'roll out 2', outcome: 'succeeded' },
    ])
    const metrics = await fetch(`${stack.info.endpoints.api}/metrics`).then(async (r) => await r.text())
    t.match(metrics, /modelpin_rollouts\{status="succeeded"\} 1/)
    t.match(metrics, /modelpin_canary_weight\{model="resnet50",alias="production"\} 0/)
  })

  await t.test('too little traffic extends the step three times, then ends inconclusive with the canary gone', async (t) => {
    const started = succeeded(await api.post(ROLLOUTS, { release: 1, steps: [0.5], stepSeconds: 5, criteria: { minInvocations: 1000 } }))
    const done = await finished(api, `${ROLLOUTS}/${started.id as string}`)
    t.equal(done.status, 'inconclusive')
    t.match(done.failure, /too few invocations/)
    t.equal(done.observations.length, 3, 'three lengths of stepSeconds in all')
    t.ok((done.observations as any[]).every((o) => !o.passed && /minInvocations/.test(o.violations[0])))
    t.match(succeeded(await api.get(ALIAS)), { release: 2, canary: null })
    t.match(succeeded(await api.get(`${ALIAS}/history?limit=1`)).history, [{ action: 'canary-abort', actor: 'rollout', outcome: 'succeeded' }])
  })

  await t.test('cancel aborts the canary with the caller as actor; a finished rollout cannot be cancelled', async (t) => {
    const started = succeeded(await api.post(ROLLOUTS, { release: 1, steps: [0.1, 0.2], stepSeconds: 600 }))
    const location = `${ROLLOUTS}/${started.id as string}`
    const cancelled = await api.del(location)
    t.equal(cancelled.status, 200, JSON.stringify(cancelled.body))
    t.match(cancelled.body, { status: 'cancelled', finishedAt: String })
    t.match(succeeded(await api.get(ALIAS)), { release: 2, canary: null })
    t.match(succeeded(await api.get(`${ALIAS}/history?limit=1`)).history, [{ action: 'canary-abort', actor: started.actor, outcome: 'succeeded' }])
    t.match(await api.del(location), { status: 409, body: { error: { code: 'rollout_finished' } } })
  })

  await t.test('a rollback during a rollout cancels it and removes the canary', async (t) => {
    const started = succeeded(await api.post(ROLLOUTS, { release: 1, steps: [0.3], stepSeconds: 600 }))
    const rolledBack = await api.post(`${ALIAS}/rollback`, { reason: 'emergency' })
    t.equal(rolledBack.status, 200, JSON.stringify(rolledBack.body))
    t.match(rolledBack.body, { release: 2, canary: null })
    t.match(succeeded(await api.get(`${ROLLOUTS}/${started.id as string}`)), { status: 'cancelled' })
    t.match(succeeded(await api.get(`${ALIAS}/history?limit=1`)).history, [{ action: 'rollback', fromRelease: 1, toRelease: 2, reason: 'emergency', outcome: 'succeeded' }])
    t.same(Object.keys((await lambdaAlias(lambda, stack)).weights), [], 'Lambda has no canary left')
  })

  await t.test('a much slower candidate is rolled back automatically at the end of its first step', async (t) => {
    // release 3: the full ResNet-50's weights with the tiny model's labels (same 1,000 classes): it loads, warms
    // up and answers correctly, only two orders of magnitude slower than the tiny model release 2 runs
    const { models } = stack.info.buckets
    const { weightsKey, labelsKey } = stack.info.model
    const weights = await s3.send(new PutObjectCommand({ Bucket: models, Key: weightsKey, Body: buildModel('resnet50', 1, 50).bytes }))
    const releases = succeeded(await api.get('/v1/models/resnet50/releases')).releases as Array<{ number: number, labelsVersionId: string }>
    succeeded(await api.post('/v1/models/resnet50/releases', { weightsVersionId: weights.VersionId, labelsVersionId: releases[1]!.labelsVersionId, notes: 'slow' }))
    t.ok(labelsKey)
    const load = traffic(async () => await invokeWithTestImage(lambda, stack))
    const started = succeeded(await api.post(ROLLOUTS, { release: 3, steps: [0.5, 0.9], stepSeconds: 5, criteria: { maxErrorRate: 0.05, maxLatencyRatio: 2, minInvocations: 3 } }))
    const done = await finished(api, `${ROLLOUTS}/${started.id as string}`)
    await load.stop()
    t.equal(done.status, 'aborted', JSON.stringify(done))
    t.equal(done.observations.length, 1, 'judged and rolled back within its first step')
    t.match(done.observations[0], { passed: false, violations: [/^maxLatencyRatio: /] })
    t.match(succeeded(await api.get(ALIAS)), { release: 2, canary: null })
    const [abort] = succeeded(await api.get(`${ALIAS}/history?limit=1`)).history
    t.match(abort, { action: 'canary-abort', actor: 'rollout', fromRelease: 3, toRelease: 2, outcome: 'succeeded' })
    // the bad signal is complete when the step's window ends; report how long the rollback took from there
    const windowEnd = Date.parse(done.startedAt) + 5000
    t.comment(`bad signal (end of the step window) to rollback committed: ${Date.parse(abort.at) - windowEnd} ms`)
  })
})
