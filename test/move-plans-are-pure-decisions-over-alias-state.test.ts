import t from 'tap'
import type { LiveAlias } from '../src/registry/deployer.js'
import { AliasNotFoundError, InvalidInputError, NoCanaryError } from '../src/registry/errors.js'
import type { LiveView } from '../src/registry/model.js'
import {
  deployStepsOf, warmupVersionOf, planAdoption, planCanaryAbort, planCanaryPromote, planCanaryStart, planCanaryStep, planPromote, planRollback,
  planRollbackWithoutTo, ROLLBACK_LOOKBACK_ACTIONS, rollbackLooksBack, sameServing, type ClaimedAlias,
} from '../src/registry/move-plan.js'

/** An alias as a lock finds it; frozen, so a plan that wrote to it would throw. */
function claimed (fields: Partial<ClaimedAlias> = {}): ClaimedAlias {
  const alias = { model: 'resnet', alias: 'production', release: 1, canary: null, functionVersion: '1', canaryFunctionVersion: null, ...fields }
  if (alias.canary !== null) Object.freeze(alias.canary)
  return Object.freeze(alias)
}

const withCanary = claimed({ release: 1, canary: { release: 2, weight: 0.25 }, functionVersion: '1', canaryFunctionVersion: '2' })

t.test('a promote moves the alias to the release, drops any canary and gates the release', async (t) => {
  t.same(planPromote(claimed({ release: null, functionVersion: null }), 3), {
    state: { release: 3, canary: null }, fromRelease: null, toRelease: 3, gate: 3, detail: null,
  }, 'a new alias comes from no release')
  t.same(planPromote(withCanary, 3), {
    state: { release: 3, canary: null }, fromRelease: 1, toRelease: 3, gate: 3, detail: null,
  }, 'the canary is gone')
})

t.test('a rollback moves from the served release to the target; an alias that serves nothing cannot roll back', async (t) => {
  t.same(planRollback(claimed({ release: 2 }), 1), { state: { release: 1, canary: null }, fromRelease: 2, toRelease: 1, gate: 1, detail: null })
  t.throws(() => planRollback(claimed({ release: null }), 1), AliasNotFoundError)
  t.same(planRollback(withCanary, 3), {
    state: { release: 3, canary: null }, fromRelease: 1, toRelease: 3, gate: 3, detail: null,
  }, 'a named target drops a running canary too')
})

t.test('a rollback without `to` returns to the release before the last release-changing move, so two rollbacks toggle', async (t) => {
  t.ok(rollbackLooksBack(claimed()), 'without a canary it looks through the history')
  t.same(planRollbackWithoutTo(claimed({ release: 2 }), 1),
    { state: { release: 1, canary: null }, fromRelease: 2, toRelease: 1, gate: 1, detail: null })
  t.same(planRollbackWithoutTo(claimed({ release: 1 }), 2),
    { state: { release: 2, canary: null }, fromRelease: 1, toRelease: 2, gate: 2, detail: null }, 'the rollback just written points back')
  t.throws(() => planRollbackWithoutTo(claimed(), null), InvalidInputError, 'no earlier release: name one')
  t.throws(() => planRollbackWithoutTo(claimed({ release: null }), 1), AliasNotFoundError)
  t.same([...ROLLBACK_LOOKBACK_ACTIONS].sort(), ['canary-promote', 'promote', 'reconcile', 'rollback'],
    'canary starts and aborts (and canary steps) never count')
})

t.test('while a canary runs, a rollback without `to` removes it and keeps the alias on its release, ungated', async (t) => {
  t.notOk(rollbackLooksBack(withCanary), 'the history is not needed')
  const plan = planRollbackWithoutTo(withCanary, null)
  t.same(plan, {
    state: { release: 1, canary: null },
    fromRelease: 2,
    toRelease: 1,
    gate: null,
    detail: 'canary removed: weight 0.25 on release 2',
  }, 'one entry from the canary\'s release to the alias\'s')
  t.same(planRollbackWithoutTo(withCanary, 3), plan, 'whatever the history says')
  t.same(deployStepsOf(plan, 3, 0), {
    publish: { main: 1, canary: null }, warmup: null, gate: null, route: { canaryWeight: null },
  }, 'the served version routes alone, with no gate')
})

t.test('a canary keeps the release, needs another one and gates the candidate', async (t) => {
  t.same(planCanaryStart(claimed(), 2, 0.5), {
    state: { release: 1, canary: { release: 2, weight: 0.5 } },
    fromRelease: 1,
    toRelease: 2,
    gate: 2,
    detail: 'weight 0.5 to release 2',
  })
  t.throws(() => planCanaryStart(claimed(), 1, 0.5), InvalidInputError, 'a canary of the served release')
  t.throws(() => planCanaryStart(claimed({ release: null }), 2, 0.5), AliasNotFoundError)
})

t.test('promoting a canary makes its release the alias, ungated; aborting it keeps the release', async (t) => {
  t.same(planCanaryPromote(withCanary), { state: { release: 2, canary: null }, fromRelease: 1, toRelease: 2, gate: null, detail: null, skipWarmup: true })
  t.same(planCanaryAbort(withCanary), {
    state: { release: 1, canary: null }, fromRelease: 2, toRelease: 1, gate: null, detail: 'weight 0.25 on release 2 removed',
  })
  t.throws(() => planCanaryPromote(claimed()), NoCanaryError)
  t.throws(() => planCanaryAbort(claimed()), NoCanaryError)
})

t.test('the Deployer steps of a plan: what to publish, where the gate runs, how the alias routes', async (t) => {
  t.same(deployStepsOf(planPromote(claimed(), 2), 1, 0), {
    publish: { main: 2, canary: null }, warmup: null, gate: { release: 2, version: 'main' }, route: { canaryWeight: null },
  }, 'a promote publishes the release, gates it and routes everything to it')
  t.same(deployStepsOf(planPromote(claimed(), 2), 0, 0).gate, null, 'a model without gate images has no gate to run')
  t.same(deployStepsOf(planCanaryStart(claimed(), 2, 0.1), 3, 0), {
    publish: { main: 1, canary: 2 }, warmup: null, gate: { release: 2, version: 'canary' }, route: { canaryWeight: 0.1 },
  }, 'a canary publishes both releases and gates the candidate on its own version')
  t.same(deployStepsOf(planCanaryPromote(withCanary), 3, 0), {
    publish: { main: 2, canary: null }, warmup: null, gate: null, route: { canaryWeight: null },
  }, 'promoting a canary reuses its version and runs no gate')
  t.same(deployStepsOf(planCanaryAbort(withCanary), 3, 0), {
    publish: { main: 1, canary: null }, warmup: null, gate: null, route: { canaryWeight: null },
  })
  t.same(deployStepsOf(planRollback(claimed({ release: 2 }), 1), 1, 0).gate, { release: 1, version: 'main' })
})

t.test('the warm-up goes to the target release\'s version, before the gate, unless that version serves already', async (t) => {
  const promote = deployStepsOf(planPromote(claimed(), 2), 1, 2)
  t.same(promote.warmup, { version: 'main', count: 2 }, 'a promote warms `prewarm` environments of its release')
  t.equal(warmupVersionOf(promote, { main: '7', canary: null }, '1'), '7', 'the version just published for it')
  t.equal(deployStepsOf(planPromote(claimed(), 2), 1, 0).warmup, null, 'prewarm 0 skips the warm-up')
  const canary = deployStepsOf(planCanaryStart(claimed(), 2, 0.1), 0, 3)
  t.same(canary.warmup, { version: 'canary', count: 3 }, 'a canary warms the candidate, not the served release')
  t.equal(warmupVersionOf(canary, { main: '1', canary: '4' }, '1'), '4')
  const promoted = deployStepsOf(planCanaryPromote(withCanary), 0, 1)
  t.equal(warmupVersionOf(promoted, { main: '2', canary: null }, '1'), null, 'promoting a canary warms nothing: its version serves already (DESIGN.md, Rollouts)')
  const stepped = deployStepsOf(planCanaryStep(withCanary, 2, 0.5, 'step 2'), 0, 1)
  t.same(stepped.warmup, { version: 'canary', count: 1 }, 'a rollout step warms the candidate\'s version for its larger share')
  t.same(stepped.route, { canaryWeight: 0.5 })
  t.throws(() => planCanaryStep(claimed(), 2, 0.5, 'step'), NoCanaryError, 'a step needs the canary of its candidate')
  const rollback = deployStepsOf(planRollback(claimed({ release: 2 }), 1), 0, 1)
  t.equal(warmupVersionOf(rollback, { main: '1', canary: null }, '2'), '1', 'a rollback to another version warms it too')
  t.equal(warmupVersionOf(rollback, { main: '2', canary: null }, '2'), null, 'a move to the version that serves warms nothing')
  const abort = deployStepsOf(planCanaryAbort(withCanary), 0, 1)
  t.equal(warmupVersionOf(abort, { main: '1', canary: null }, '1'), null, 'aborting a canary leaves the served version as it is')
})

t.test('sameServing compares the recorded versions and canary weight with what Lambda serves', async (t) => {
  const live = (functionVersion: string, canary: { functionVersion: string, weight: number } | null = null): LiveAlias =>
    ({ functionVersion, pin: undefined, canary: canary === null ? null : { ...canary, pin: undefined } })
  t.ok(sameServing(claimed(), live('1')))
  t.notOk(sameServing(claimed(), live('2')), 'another version')
  t.notOk(sameServing(claimed(), live('1', { functionVersion: '2', weight: 0.25 })), 'Lambda runs a canary the registry has not')
  t.notOk(sameServing(withCanary, live('1')), 'the registry has a canary Lambda does not run')
  t.ok(sameServing(withCanary, live('1', { functionVersion: '2', weight: 0.25 + 1e-9 })), 'weights equal within rounding')
  t.notOk(sameServing(withCanary, live('1', { functionVersion: '2', weight: 0.5 })), 'another weight')
  t.notOk(sameServing(withCanary, live('1', { functionVersion: '3', weight: 0.25 })), 'another canary version')
})

t.test('adopting what Lambda serves names both sides, and nothing is adopted that maps to no release', async (t) => {
  const view = (release: number | null, canary: LiveView['canary'] = null): LiveView =>
    ({ functionName: 'fn', functionAlias: 'live', functionVersion: '5', release, pin: null, canary })
  t.same(planAdoption(claimed(), view(2)), {
    state: { release: 2, canary: null },
    fromRelease: 1,
    toRelease: 2,
    gate: null,
    detail: 'adopted Lambda\'s state: fn:live serves version 5 (release 2); the registry had release 1',
  })
  t.same(planAdoption(withCanary, view(1, { functionVersion: '6', release: 3, weight: 0.5, pin: null })), {
    state: { release: 1, canary: { release: 3, weight: 0.5 } },
    fromRelease: 1,
    toRelease: 1,
    gate: null,
    detail: 'adopted Lambda\'s state: fn:live serves version 5 (release 1) and weight 0.5 on version 6 (release 3); ' +
      'the registry had release 1 with weight 0.25 on release 2',
  })
  t.equal(planAdoption(claimed(), view(null)), null, 'a version no release maps to')
  t.equal(planAdoption(claimed(), view(2, { functionVersion: '6', release: null, weight: 0.5, pin: null })), null, 'a canary no release maps to')
})

t.test('the same alias state gives the same plan every time and is never changed', async (t) => {
  const alias = withCanary
  const before = JSON.stringify(alias)
  for (const plan of [() => planPromote(alias, 3), () => planRollback(alias, 3), () => planRollbackWithoutTo(alias, 3),
    () => planCanaryPromote(alias), () => planCanaryAbort(alias)]) {
    t.same(plan(), plan())
  }
  t.equal(JSON.stringify(alias), before)
})
