import t from 'tap'
import { adminClient, evaluateUntilDone, startEndToEnd, succeeded } from './helpers/e2e.js'

t.test('a promotion policy through the local stack', async (t) => {
  const { stack, api, photos: { bucket }, releases: [release1] } = await startEndToEnd(t, { photos: { 'in/a.jpg': 'red', 'in/b.jpg': 'green', 'in/c.jpg': 'blue' } })
  const model = `/v1/models/${stack.info.model.name}`
  const production = `${model}/aliases/${stack.info.model.deployAlias}`
  const inputs = { bucket, prefix: 'in/' }
  const promoter = adminClient(stack.info.endpoints.api, succeeded(await api.post('/v1/tokens', { name: 'pat', role: 'promoter' })).token)
  // release 3 has release 1's weights: it agrees with release 1 on everything; release 2 agrees on nothing
  const release3 = succeeded(await api.post(`${model}/releases`, { weightsVersionId: release1.weightsVersionId, labelsVersionId: release1.labelsVersionId }))

  const patched = await api.patch(model, { promotionPolicy: { minAgreement: 0.9, maxErrorRate: 0.1 } })
  t.equal(patched.status, 200, JSON.stringify(patched.body))
  t.same(patched.body.promotionPolicy, { minAgreement: 0.9, maxErrorRate: 0.1, maxAgeSeconds: 86400 }, 'shown with its default age')
  t.same(succeeded(await api.get(model)).promotionPolicy, patched.body.promotionPolicy, 'GET shows it')
  const revision = succeeded(await api.get(production)).revision

  await t.test('no evaluation: promote and canary start are refused with evaluation_required and a rejected entry', async (t) => {
    t.match(await promoter.post(`${production}/promote`, { release: 2, reason: 'no evaluation' }), { status: 422, body: { error: { code: 'evaluation_required' } } })
    t.match(await promoter.post(`${production}/canary`, { release: 2, weight: 0.1 }), { status: 422, body: { error: { code: 'evaluation_required' } } })
    const [canary, promote] = succeeded(await api.get(`${production}/history`)).history
    t.match(promote, { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'rejected', reason: 'no evaluation', detail: /needs a succeeded evaluation of release 2 against release 1/ })
    t.match(canary, { action: 'canary-start', outcome: 'rejected' })
    t.match(succeeded(await api.get(production)), { release: 1, revision }, 'the alias did not move')
  })

  await t.test('an evaluation that fails the policy: policy_violated listing the violations, and the verdict says so', async (t) => {
    const evaluation = await evaluateUntilDone(api, stack.info.model.name, { candidate: 2, inputs })
    t.match(evaluation, { status: 'succeeded', agreement: { top1: 0 }, verdict: { passed: false, violations: ['minAgreement: 0 vs 0.9'] } })
    const refused = await promoter.post(`${production}/promote`, { release: 2 })
    t.match(refused, { status: 422, body: { error: { code: 'policy_violated', message: /minAgreement: 0 vs 0\.9/ } } })
    t.match(succeeded(await api.get(`${production}/history`)).history[0], { action: 'promote', toRelease: 2, outcome: 'rejected', detail: /minAgreement: 0 vs 0\.9/ })
  })

  await t.test('force: 403 for a promoter whatever the policy, skipped for an admin and recorded in the history', async (t) => {
    t.match(await promoter.post(`${production}/promote`, { release: 2, force: true }), { status: 403, body: { error: { code: 'forbidden' } } })
    t.match(await promoter.post(`${model}/aliases/staging/promote`, { release: 2, force: true }), { status: 403 }, 'also where no policy applies')
    t.match(await promoter.post(`${production}/canary`, { release: 2, weight: 0.1, force: true }), { status: 403 })
    const forced = await api.post(`${production}/canary`, { release: 2, weight: 0.1, force: true, reason: 'forced' })
    t.equal(forced.status, 200, JSON.stringify(forced.body))
    t.match(succeeded(await api.get(`${production}/history`)).history[0], { action: 'canary-start', outcome: 'succeeded', actor: 'admin', detail: /skipped by force/ })
  })

  await t.test('exempt: canary abort, rollbacks, and an alias that serves nothing yet', async (t) => {
    t.equal((await promoter.del(`${production}/canary`)).status, 200, 'canary abort')
    t.equal((await promoter.post(`${model}/aliases/staging/promote`, { release: 2 })).status, 200, 'a registry-only alias')
    t.equal((await promoter.post(`${production}/rollback`, { to: 1 })).status, 200, 'a rollback, even to a release never evaluated')
  })

  await t.test('an evaluation that passes admits the promotion, and the history names it', async (t) => {
    const evaluation = await evaluateUntilDone(api, stack.info.model.name, { candidate: release3.number, inputs })
    t.match(evaluation, { status: 'succeeded', baseline: 1, agreement: { top1: 1 }, verdict: { passed: true, violations: [] } })
    const promoted = await promoter.post(`${production}/promote`, { release: release3.number, reason: 'evaluated' })
    t.equal(promoted.status, 200, JSON.stringify(promoted.body))
    t.match(succeeded(await api.get(`${production}/history`)).history[0], {
      action: 'promote', outcome: 'succeeded', toRelease: release3.number, detail: new RegExp(`promotion policy passed by evaluation ${evaluation.id as string}`),
    })
    // the evaluation of release 3 was against release 1: now that release 3 serves, rolling back needs none and
    // promoting release 1 again needs an evaluation of 1 against 3
    t.match(await promoter.post(`${production}/promote`, { release: 1 }), { status: 422, body: { error: { code: 'evaluation_required' } } })
    t.equal((await promoter.post(`${production}/rollback`, {})).status, 200)
  })

  await t.test('a policy out of range is refused and changes nothing', async (t) => {
    for (const policy of [{ minAgreement: 1.5 }, { maxErrorRate: -0.1 }, { maxLatencyRatio: 0 }, { maxAgeSeconds: 0 }, { maxAgeSeconds: 1.5 }, { other: 1 }]) {
      t.match(await api.patch(model, { promotionPolicy: policy }), { status: 400, body: { error: { code: 'invalid_input' } } }, JSON.stringify(policy))
    }
    t.same(succeeded(await api.get(model)).promotionPolicy, { minAgreement: 0.9, maxErrorRate: 0.1, maxAgeSeconds: 86400 })
    t.equal((await api.patch(model, { promotionPolicy: null })).body.promotionPolicy, null, 'null removes it')
    t.equal((await promoter.post(`${production}/promote`, { release: 2 })).status, 200, 'no policy: nothing to pass')
  })
})
