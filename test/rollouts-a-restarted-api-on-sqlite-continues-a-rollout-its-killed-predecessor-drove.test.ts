import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { MODEL_ALIAS, startMoveWorld, waitFor } from './helpers/move-world.js'

const ROLLOUTS = `${MODEL_ALIAS}/rollouts`

t.test('an API on SQLite killed mid-rollout and started again continues from the last recorded step without repeating a move', async (t) => {
  const world = await startMoveWorld(t, { database: 'sqlite', handler: 'release-fails-on-demand.mjs' })
  const env = {
    AWS_ENDPOINT_URL_CLOUDWATCH: world.runtime.cloudwatchUrl,
    MODELPIN_METRICS_PERIOD_SECONDS: '1',
    MODELPIN_METRICS_DELAY_SECONDS: '1',
    // longer than the whole test: the restarted process takes the lease because it is the only one (SQLite), not
    // because the lease expired
    MODELPIN_LOCK_TTL_SECONDS: '600',
  }
  const first = await world.startApi({ env })
  await world.registerModel(first.api, 2)
  t.equal((await first.api.post(`${MODEL_ALIAS}/promote`, { release: 1 })).status, 200)

  const state = { running: true }
  const worker = async (): Promise<void> => {
    while (state.running) await world.direct.send(new InvokeCommand({ FunctionName: 'fn', Qualifier: 'live', Payload: Buffer.from('{}') })).catch(() => {})
  }
  const workers = [worker(), worker()]
  const started = await first.api.post(ROLLOUTS, { release: 2, steps: [0.2, 0.5], stepSeconds: 5, criteria: { minInvocations: 5 } })
  t.equal(started.status, 202, JSON.stringify(started.body))
  const id = started.body.id as string
  await waitFor(async () => (await first.api.get(`${ROLLOUTS}/${id}`)).body.currentStep >= 1 ? true : undefined)
  first.process.kill('SIGKILL')
  await first.process.exited

  const restarted = await world.startApi({ ...first.process.options, env })
  const done = await waitFor(async () => {
    const read = (await restarted.api.get(`${ROLLOUTS}/${id}`)).body
    return read.status === 'running' ? undefined : read
  }, 120_000)
  state.running = false
  await Promise.all(workers)
  t.equal(done.status, 'succeeded', JSON.stringify(done))
  t.same((done.observations as any[]).map((o) => o.step), [0, 1])
  const history = ((await restarted.api.get(`${MODEL_ALIAS}/history?limit=3`)).body.history as any[]).reverse()
  t.same(history.map((e) => [e.action, e.outcome]), [['canary-start', 'succeeded'], ['canary-step', 'succeeded'], ['canary-promote', 'succeeded']])
  t.match((await restarted.api.get(MODEL_ALIAS)).body, { release: 2, canary: null })
})
