import t from 'tap'
import { textFile } from './helpers/images.js'
import { invokeWithTestImage, lambdaAlias, releaseLabel } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'
import type { InvocationRecord } from '../src/local/lambda-runtime/index.js'

t.test('a gate image the candidate cannot classify rejects the move with 422; a good one lets the promotion pass', async (t) => {
  const { stack, api, lambda, photos: { bucket } } = await startEndToEnd(t, {
    photos: { 'gate/shopping-list.txt': textFile(), 'gate/red.jpg': 'red' },
  })
  const model = '/v1/models/resnet50'
  const alias = `${model}/aliases/production`
  const invocations: InvocationRecord[] = []
  stack.runtime.on('invocation', (record) => invocations.push(record))

  // no warm-up: the invocations counted here are the gate's
  const patched = await api.patch(model, { prewarm: 0, gateImages: [{ bucket, key: 'gate/red.jpg' }, { bucket, key: 'gate/shopping-list.txt' }] })
  t.equal(patched.status, 200, JSON.stringify(patched.body))
  const before = await api.get(alias)
  const liveBefore = await lambdaAlias(lambda, stack)

  const rejected = await api.post(`${alias}/promote`, { release: 2, reason: 'gated' }, { 'if-match': before.etag! })
  t.equal(rejected.status, 422, JSON.stringify(rejected.body))
  t.equal(rejected.body.error.code, 'gate_rejected')
  t.match(rejected.body.error.message, /gate\/shopping-list\.txt.*InvalidImageError/, 'the message names the image and the function\'s error')
  t.equal(invocations.length, 2, 'the gate invoked the candidate on both images')
  t.equal(invocations[1]!.errorType, 'InvalidImageError')
  t.not(invocations[0]!.version, liveBefore.functionVersion, 'the gate ran the candidate\'s version, not live')

  const after = await api.get(alias)
  t.match(after.body, { release: 1, revision: before.body.revision, drift: false })
  t.same(await lambdaAlias(lambda, stack), liveBefore, 'the Lambda alias did not move')
  t.equal((await invokeWithTestImage(lambda, stack)).body.predictions[0].label, releaseLabel(1))
  const history = (await api.get(`${alias}/history`)).body.history
  t.match(history[0], { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'rejected', reason: 'gated', detail: /InvalidImageError/ })

  const canary = await api.post(`${alias}/canary`, { release: 2, weight: 0.5 })
  t.equal(canary.status, 422, 'a canary is gated too')
  t.equal(canary.body.error.code, 'gate_rejected')
  t.same((await lambdaAlias(lambda, stack)).weights, {}, 'no weight went to the rejected candidate')

  t.equal((await api.patch(model, { gateImages: [{ bucket, key: 'gate/red.jpg' }] })).status, 200)
  invocations.length = 0
  const passed = await api.post(`${alias}/promote`, { release: 2, reason: 'gate passes' }, { 'if-match': before.etag! })
  t.equal(passed.status, 200, JSON.stringify(passed.body))
  t.equal(passed.body.release, 2)
  const liveAfter = await lambdaAlias(lambda, stack)
  t.equal(invocations.length, 1, 'the gate ran once')
  t.equal(invocations[0]!.version, liveAfter.functionVersion, 'on the version that then went live')
  t.equal(invocations[0]!.errorType, undefined)
  t.equal((await invokeWithTestImage(lambda, stack)).body.predictions[0].label, releaseLabel(2))
  t.match((await api.get(`${alias}/history`)).body.history.slice(0, 3), [
    { action: 'promote', outcome: 'succeeded', toRelease: 2 },
    { action: 'canary-start', outcome: 'rejected', toRelease: 2 },
    { action: 'promote', outcome: 'rejected', toRelease: 2 },
  ])
})
