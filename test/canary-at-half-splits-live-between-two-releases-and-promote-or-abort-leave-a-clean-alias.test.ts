import t from 'tap'
import { invokeWithTestImage, lambdaAlias, releaseLabel } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'

const INVOCATIONS = 200
const WEIGHT = 0.5
// 3.5 sigma of a binomial share over 200 invocations at 0.5 is 0.124; the seeded router is exact within one
const TOLERANCE = 0.125

t.test('a canary at 0.5 splits live between releases 1 and 2; canary promote and abort each leave a clean alias', async (t) => {
  const { stack, api, lambda, releases } = await startEndToEnd(t, { routerSeed: 7 })
  const alias = '/v1/models/resnet50/aliases/production'

  const version1 = (await lambdaAlias(lambda, stack)).functionVersion
  const read = await api.get(alias)
  const started = await api.post(`${alias}/canary`, { release: 2, weight: WEIGHT, reason: 'try 2' }, { 'if-match': read.etag! })
  t.equal(started.status, 200, JSON.stringify(started.body))
  t.match(started.body, { release: 1, canary: { release: 2, weight: WEIGHT }, revision: read.body.revision + 1 })

  const split = await lambdaAlias(lambda, stack)
  t.equal(split.functionVersion, version1, 'the alias keeps release 1\'s version')
  const canaryVersions = Object.keys(split.weights)
  t.equal(canaryVersions.length, 1, 'one additional version')
  const version2 = canaryVersions[0]!
  t.not(version2, version1)
  t.equal(split.weights[version2], WEIGHT)
  const view = await api.get(alias)
  t.match(view.body, {
    release: 1,
    canary: { release: 2, weight: WEIGHT },
    drift: false,
    live: { functionVersion: version1, release: 1, canary: { functionVersion: version2, release: 2, weight: WEIGHT } },
  })

  // which release answered each invocation, told by the label and the pins it reports
  const served = { 1: 0, 2: 0 }
  for (let i = 0; i < INVOCATIONS; i++) {
    const answer = await invokeWithTestImage(lambda, stack)
    const n = answer.executedVersion === version1 ? 1 : answer.executedVersion === version2 ? 2 : null
    if (n === null) {
      t.fail(`invocation ${i} ran version ${String(answer.executedVersion)}`)
      continue
    }
    served[n]++
    const release = releases[n - 1]!
    if (answer.body.predictions?.[0]?.label !== releaseLabel(n) || answer.body.model?.weightsVersionId !== release.weightsVersionId ||
      answer.body.model?.labelsVersionId !== release.labelsVersionId) {
      t.fail(`invocation ${i} on version ${answer.executedVersion} did not answer as release ${n}: ${JSON.stringify(answer.body)}`)
    }
  }
  for (const n of [1, 2] as const) {
    const share = served[n] / INVOCATIONS
    t.ok(Math.abs(share - WEIGHT) <= TOLERANCE, `release ${n} served ${served[n]} of ${INVOCATIONS} (share ${share})`)
    t.ok(Math.abs(served[n] - INVOCATIONS * WEIGHT) <= 1, 'exact within one with the seeded router')
  }

  const promoted = await api.post(`${alias}/canary/promote`, { reason: '2 looks good' }, { 'if-match': started.etag! })
  t.equal(promoted.status, 200, JSON.stringify(promoted.body))
  t.match(promoted.body, { release: 2, canary: null })
  t.same(await lambdaAlias(lambda, stack).then(({ functionVersion, weights }) => ({ functionVersion, weights })),
    { functionVersion: version2, weights: {} }, 'after canary promote: the whole alias on the candidate, no weights')
  t.match((await api.get(alias)).body, { release: 2, canary: null, drift: false, live: { functionVersion: version2, release: 2, canary: null } })
  const afterPromote = await invokeWithTestImage(lambda, stack)
  t.equal(afterPromote.body.predictions[0].label, releaseLabel(2))

  const restarted = await api.post(`${alias}/canary`, { release: 1, weight: 0.2 }, { 'if-match': promoted.etag! })
  t.equal(restarted.status, 200)
  t.same((await lambdaAlias(lambda, stack)).weights, { [version1]: 0.2 }, 'a canary back to release 1 reuses its version')
  const aborted = await api.del(`${alias}/canary`, { 'if-match': restarted.etag! })
  t.equal(aborted.status, 200, JSON.stringify(aborted.body))
  t.match(aborted.body, { release: 2, canary: null })
  t.same(await lambdaAlias(lambda, stack).then(({ functionVersion, weights }) => ({ functionVersion, weights })),
    { functionVersion: version2, weights: {} }, 'after abort: the whole alias on the original, no weights')
  t.match((await api.get(alias)).body, { release: 2, canary: null, drift: false, live: { canary: null } })

  const none = await api.del(`${alias}/canary`)
  t.equal(none.status, 400, 'aborting when no canary runs')
  t.equal(none.body.error.code, 'no_canary')

  const history = await api.get(`${alias}/history`)
  t.match(history.body.history.slice(0, 4), [
    { action: 'canary-abort', fromRelease: 1, toRelease: 2, outcome: 'succeeded' },
    { action: 'canary-start', fromRelease: 2, toRelease: 1, outcome: 'succeeded' },
    { action: 'canary-promote', fromRelease: 1, toRelease: 2, outcome: 'succeeded', reason: '2 looks good' },
    { action: 'canary-start', fromRelease: 1, toRelease: 2, outcome: 'succeeded', reason: 'try 2' },
  ])
})
