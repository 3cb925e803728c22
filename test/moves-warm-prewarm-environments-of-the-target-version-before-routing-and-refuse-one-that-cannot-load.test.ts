import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { MAX_PREWARM } from '../src/contract/limits.js'
import { deployedRelease, startEndToEnd, succeeded } from './helpers/e2e.js'
import { invoke } from './helpers/local-runtime-e2e.js'
import { labelsText } from './helpers/models.js'

/** What the local runtime did, in the order it did it: environments started and invocations run. */
type RuntimeStep =
  | { kind: 'started', version: string, environmentId: string }
  | { kind: 'invoked', version: string, environmentId: string, coldStart: boolean }

t.test('with prewarm 2 a promotion starts two environments of the new version before it routes, and a steady client never waits for a cold start', async (t) => {
  const { stack, api, lambda, photos: { bucket } } = await startEndToEnd(t, { photos: { 'blue.jpg': 'blue' } })
  const { name, deployAlias } = stack.info.model
  t.equal(succeeded(await api.patch(`/v1/models/${name}`, { prewarm: 2 })).prewarm, 2, 'PATCH sets prewarm')
  t.equal(succeeded(await api.get(`/v1/models/${name}`)).prewarm, 2, 'GET shows it')
  const before = await deployedRelease(stack)

  const steps: RuntimeStep[] = []
  stack.runtime.on('environment-started', (e) => steps.push({ kind: 'started', version: e.version, environmentId: e.environmentId }))
  stack.runtime.on('invocation', (r) => steps.push({ kind: 'invoked', version: r.version, environmentId: r.environmentId, coldStart: r.coldStart }))

  // One client invoking `live` back to back from before the promotion until one call after it answered.
  const event = { image: { bucket, key: 'blue.jpg' } }
  const answers: Array<{ version: string | undefined, coldStart: boolean }> = []
  let promoted = false
  const steady = (async () => {
    for (let last = false; !last;) {
      last = promoted
      const { response, body } = await invoke(lambda, stack, event)
      answers.push({ version: response.ExecutedVersion, coldStart: body.environment.coldStart })
    }
  })()
  const promotion = await api.post(`/v1/models/${name}/aliases/${deployAlias}/promote`, { release: 2, reason: 'warm-up test' })
  promoted = true
  await steady
  t.equal(promotion.status, 200, JSON.stringify(promotion.body))
  const after = await deployedRelease(stack)
  t.not(after.functionVersion, before.functionVersion, 'live serves a new version')

  const ofNew = steps.filter((step) => step.version === after.functionVersion)
  const started = ofNew.filter((step) => step.kind === 'started')
  t.equal(started.length, 2, 'two environments of the new version started, and no more')
  const warmups = ofNew.filter((step) => step.kind === 'invoked' && step.coldStart)
  t.equal(warmups.length, 2, 'the two warm-ups were the version\'s only cold starts')
  t.same(new Set(warmups.map((step) => step.environmentId)), new Set(started.map((step) => step.environmentId)),
    'one warm-up in each environment')
  const firstServed = ofNew.findIndex((step) => step.kind === 'invoked' && !step.coldStart)
  t.ok(firstServed > ofNew.lastIndexOf(warmups[1]!), 'the alias\'s traffic reached the version after both warm-ups')

  t.ok(answers.some((answer) => answer.version === before.functionVersion), 'the client was served before the promotion')
  t.equal(answers.at(-1)?.version, after.functionVersion, 'and by the new version after it')
  t.same(answers.filter((answer) => answer.coldStart), [], 'no answer of the steady client was a cold start')
})

t.test('a release whose labels do not match the model fails its warm-up: 422 warmup_failed, the alias stays, history says rejected', async (t) => {
  const { stack, api } = await startEndToEnd(t)
  const { name, deployAlias, labelsKey } = stack.info.model
  const model = `/v1/models/${name}`
  const before = await deployedRelease(stack)
  const aliasBefore = succeeded(await api.get(`${model}/aliases/${deployAlias}`))

  // weights of release 1 with a labels file of 999 lines: the model has 1,000 classes, so it cannot load
  const short = await stack.s3.send(new PutObjectCommand({ Bucket: stack.info.buckets.models, Key: labelsKey, Body: labelsText(1, 999) }))
  const mismatched = succeeded(await api.post(`${model}/releases`, {
    weightsVersionId: before.release.weightsVersionId, labelsVersionId: short.VersionId, notes: 'labels of the wrong count',
  }), 'registering the mismatched release')

  const refused = await api.post(`${model}/aliases/${deployAlias}/promote`, { release: mismatched.number, reason: 'should not load' })
  t.equal(refused.status, 422)
  t.equal(refused.body.error.code, 'warmup_failed')
  t.match(refused.body.error.message, /warm-up.*LabelsMismatchError/, 'the message names the function\'s error')

  const aliasAfter = succeeded(await api.get(`${model}/aliases/${deployAlias}`))
  t.match(aliasAfter, { release: aliasBefore.release, revision: aliasBefore.revision }, 'the registry alias did not move')
  t.equal((await deployedRelease(stack)).functionVersion, before.functionVersion, 'Lambda serves what it served')
  const history = succeeded(await api.get(`${model}/aliases/${deployAlias}/history`))
  t.match(history.history[0], { action: 'promote', toRelease: mismatched.number, outcome: 'rejected' }, 'one rejected entry')
})

t.test('prewarm outside 0..MAX_PREWARM, or not an integer, is 400 on POST and PATCH; 0 is allowed', async (t) => {
  const { stack, api } = await startEndToEnd(t)
  const model = `/v1/models/${stack.info.model.name}`
  for (const prewarm of [-1, MAX_PREWARM + 1, 1.5]) {
    const patched = await api.patch(model, { prewarm })
    t.equal(patched.status, 400, `PATCH prewarm ${JSON.stringify(prewarm)}`)
    t.equal(patched.body.error.code, 'invalid_input')
  }
  const created = await api.post('/v1/models', { name: 'too-warm', bucket: stack.info.buckets.models, weightsKey: 'w.onnx', labelsKey: 'l.txt', prewarm: MAX_PREWARM + 1 })
  t.equal(created.status, 400, 'POST')
  t.equal(succeeded(await api.patch(model, { prewarm: 0 })).prewarm, 0, '0 turns the warm-up off')
  t.equal(succeeded(await api.post('/v1/models', { name: 'default-warm', bucket: stack.info.buckets.models, weightsKey: 'w.onnx', labelsKey: 'l.txt' })).prewarm, 1,
    'a model registered without it warms one environment')
})
