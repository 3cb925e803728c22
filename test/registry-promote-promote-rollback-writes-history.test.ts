import t from 'tap'
import { AliasNotFoundError, InvalidInputError, NoCanaryError, NotDeployedError } from '../src/registry/errors.js'
import { createTestRegistry, DATABASE_KINDS, registerModelWithReleases } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: promote, promote again and rollback leave three history entries, newest first, and rollbacks toggle`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 3)

    const first = await registry.promote('resnet', 'production', { release: 1, reason: 'first light' }, 'alice')
    t.match(first, { alias: 'production', release: 1, revision: 1, canary: null })
    const second = await registry.promote('resnet', 'production', { release: 2, reason: 'better top-1', ifMatch: 1 }, 'bob')
    t.match(second, { release: 2, revision: 2 })
    const back = await registry.rollback('resnet', 'production', { reason: 'regression in prod' }, 'carol')
    t.match(back, { release: 1, revision: 3 }, 'rollback without to returns to the earlier release')

    const history = await registry.history('resnet', 'production')
    t.equal(history.length, 3)
    t.match(history, [
      { action: 'rollback', actor: 'carol', reason: 'regression in prod', fromRelease: 2, toRelease: 1, outcome: 'succeeded' },
      { action: 'promote', actor: 'bob', reason: 'better top-1', fromRelease: 1, toRelease: 2, outcome: 'succeeded' },
      { action: 'promote', actor: 'alice', reason: 'first light', fromRelease: null, toRelease: 1, outcome: 'succeeded' },
    ])
    const times = history.map((entry) => Date.parse(entry.at))
    t.ok(times.every((time, i) => i === 0 || time <= times[i - 1]!), 'newest first')

    t.match(await registry.rollback('resnet', 'production', {}, 'carol'), { release: 2, revision: 4 }, 'a second rollback toggles back')
    t.match(await registry.rollback('resnet', 'production', {}, 'carol'), { release: 1, revision: 5 }, 'and again')
    t.match(await registry.rollback('resnet', 'production', { to: 3, ifMatch: 5 }, 'dave'), { release: 3, revision: 6 }, 'or to a named release')
    t.match(await registry.history('resnet', 'production', { limit: 2 }), [{ toRelease: 3, actor: 'dave' }, { toRelease: 1 }])

    const view = await registry.getAlias('resnet', 'production')
    t.match(view, { alias: 'production', release: 3, revision: 6, canary: null, live: null, drift: false })
    t.same((await registry.listAliases('resnet')).map((a) => a.alias), ['production'])
  })

  t.test(`${kind}: aliases are independent, and a fresh alias has nothing to roll back to`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 2)
    await registry.promote('resnet', 'production', { release: 2 }, 'alice')
    await registry.promote('resnet', 'staging', { release: 1 }, 'alice')
    await t.rejects(registry.rollback('resnet', 'staging', {}, 'alice'), InvalidInputError)
    await t.rejects(registry.rollback('resnet', 'qa', {}, 'alice'), AliasNotFoundError)
    await t.rejects(registry.getAlias('resnet', 'qa'), AliasNotFoundError)
    await t.rejects(registry.history('resnet', 'qa'), AliasNotFoundError)
    t.equal((await registry.getAlias('resnet', 'production')).release, 2)
    t.equal((await registry.getAlias('resnet', 'staging')).release, 1)
    t.equal((await registry.history('resnet', 'staging')).length, 1)
  })

  t.test(`${kind}: a registry-only canary starts, promotes and aborts as moves with history`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 3)
    await registry.promote('resnet', 'production', { release: 1 }, 'alice')

    await t.rejects(registry.startCanary('resnet', 'production', { release: 1, weight: 0.5 }, 'alice'), InvalidInputError, 'not the release it serves')
    for (const weight of [0, 1, 1.5, -0.1, Number.NaN]) {
      await t.rejects(registry.startCanary('resnet', 'production', { release: 2, weight }, 'alice'), InvalidInputError, `weight ${weight}`)
    }
    await t.rejects(registry.promoteCanary('resnet', 'production', {}, 'alice'), NoCanaryError)
    await t.rejects(registry.abortCanary('resnet', 'production', {}, 'alice'), NoCanaryError)
    t.equal((await registry.getAlias('resnet', 'production')).revision, 1, 'refused steps moved nothing')

    t.match(await registry.startCanary('resnet', 'production', { release: 2, weight: 0.2, reason: 'try 2' }, 'bob'),
      { release: 1, revision: 2, canary: { release: 2, weight: 0.2 } })
    t.match(await registry.startCanary('resnet', 'production', { release: 2, weight: 0.5, ifMatch: 2 }, 'bob'),
      { release: 1, revision: 3, canary: { release: 2, weight: 0.5 } }, 'restarting adjusts the weight')
    t.match(await registry.promoteCanary('resnet', 'production', { reason: 'looks good' }, 'bob'),
      { release: 2, revision: 4, canary: null })
    t.match(await registry.startCanary('resnet', 'production', { release: 3, weight: 0.1 }, 'carol'), { release: 2, canary: { release: 3 } })
    t.match(await registry.abortCanary('resnet', 'production', { reason: 'errors' }, 'carol'), { release: 2, revision: 6, canary: null })
    t.match(await registry.rollback('resnet', 'production', {}, 'carol'), { release: 1 }, 'rollback skips canary steps that did not move the release')

    t.match((await registry.history('resnet', 'production')).map((e) => [e.action, e.fromRelease, e.toRelease]), [
      ['rollback', 2, 1],
      ['canary-abort', 3, 2],
      ['canary-start', 2, 3],
      ['canary-promote', 1, 2],
      ['canary-start', 1, 2],
      ['canary-start', 1, 2],
      ['promote', null, 1],
    ])
  })

  t.test(`${kind}: without a deployer the deploy alias of a model with a function refuses to move, other aliases move`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'served', 1, { functionName: 'modelpin-inference' })
    await t.rejects(registry.promote('served', 'production', { release: 1 }, 'alice'), NotDeployedError)
    await t.rejects(registry.history('served', 'production'), AliasNotFoundError, 'the refusal created no alias')
    t.match(await registry.promote('served', 'staging', { release: 1 }, 'alice'), { release: 1, revision: 1 })
    await t.rejects(registry.predict('served', { image: { base64: '' } }), AliasNotFoundError, 'no production alias to predict with')
    await t.rejects(registry.predict('served', { image: { base64: '' }, release: 1 }), NotDeployedError)
  })
}
