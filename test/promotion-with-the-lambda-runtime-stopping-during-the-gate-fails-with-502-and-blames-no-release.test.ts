import t from 'tap'
import { startEndToEnd } from './helpers/e2e.js'

t.test('the runtime stopping while the gate runs the candidate answers 502 deploy_failed, not a gate rejection', async (t) => {
  const { stack, api, photos: { bucket } } = await startEndToEnd(t, { photos: { 'gate/red.jpg': 'red' } })
  const model = '/v1/models/resnet50'
  const alias = `${model}/aliases/production`
  t.equal((await api.patch(model, { gateImages: [{ bucket, key: 'gate/red.jpg' }] })).status, 200)
  const before = await api.get(alias)

  // the candidate's version is published before the gate invokes it: its environment starting is the gate running
  let stopped: Promise<void> | undefined
  stack.runtime.once('environment-started', () => { stopped = stack.runtime.close() })
  const answer = await api.post(`${alias}/promote`, { release: 2, reason: 'runtime dies mid-gate' })
  t.ok(stopped !== undefined, 'the runtime stopped while the gate ran')
  await stopped

  t.equal(answer.status, 502, JSON.stringify(answer.body))
  t.equal(answer.body.error.code, 'deploy_failed')
  t.match(answer.body.error.message, /invoke/, 'the failed step is the invocation')
  const unmoved = await api.get(alias)
  t.match(unmoved.body, { release: 1, revision: before.body.revision })
  const history = (await api.get(`${alias}/history`)).body.history
  t.match(history[0], { action: 'promote', toRelease: 2, outcome: 'failed', reason: 'runtime dies mid-gate' },
    'history says failed: Lambda broke, the release was not judged')
})
