import t from 'tap'
import { AliasLocks } from '../src/registry/alias-locks.js'
import { AliasBusyError, RevisionMismatchError } from '../src/registry/errors.js'
import { createTestRegistry, DATABASE_KINDS, registerModelWithReleases } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: twenty concurrent promotions with the same If-Match: one wins, nineteen get RevisionMismatchError`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 2)
    await registry.promote('resnet', 'production', { release: 1 }, 'setup')

    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      registry.promote('resnet', 'production', { release: 2, ifMatch: 1, reason: `racer ${i}` }, `racer-${i}`)))
    const won = outcomes.filter((o) => o.status === 'fulfilled')
    const lost = outcomes.filter((o) => o.status === 'rejected')
    t.equal(won.length, 1)
    t.equal(lost.length, 19)
    t.ok(lost.every((o) => o.reason instanceof RevisionMismatchError), 'every loser gets RevisionMismatchError')

    const alias = await registry.getAlias('resnet', 'production')
    t.match(alias, { release: 2, revision: 2 }, 'the revision moved once')
    const history = await registry.history('resnet', 'production')
    t.equal(history.length, 2, 'exactly one new history entry')
    t.equal(history[0]?.actor, history[0]?.reason?.replace(' ', '-'), 'the entry is the winner\'s, with its actor and reason')
  })

  t.test(`${kind}: while a move holds the alias, a move without If-Match gets AliasBusyError and one with it RevisionMismatchError`, async (t) => {
    const { registry, bucket, database } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 2)
    await registry.promote('resnet', 'staging', { release: 1 }, 'setup')

    // the same claim every move of the service starts with, held as a slow move would hold it
    const locks = new AliasLocks(database.db)
    const held = await locks.claim('resnet', 'staging', { ifMatch: 1 })
    await t.rejects(registry.promote('resnet', 'staging', { release: 2 }, 'bob'), AliasBusyError)
    await t.rejects(registry.rollback('resnet', 'staging', { to: 2 }, 'bob'), AliasBusyError)
    await t.rejects(registry.startCanary('resnet', 'staging', { release: 2, weight: 0.5 }, 'bob'), AliasBusyError)
    await t.rejects(registry.promote('resnet', 'staging', { release: 2, ifMatch: 1 }, 'bob'), RevisionMismatchError,
      'the revision matches, but the move in flight will bump it')
    await t.rejects(registry.promote('resnet', 'staging', { release: 2, ifMatch: 7 }, 'bob'), RevisionMismatchError)
    await t.rejects(locks.claim('resnet', 'staging'), AliasBusyError)
    t.equal((await registry.history('resnet', 'staging')).length, 1, 'refused moves write no history')

    await locks.release(held)
    t.match(await registry.promote('resnet', 'staging', { release: 2, ifMatch: 1 }, 'bob'), { release: 2, revision: 2 })
  })

  t.test(`${kind}: a lock past its expiry is free, and reconcile clears it`, async (t) => {
    const { registry, bucket, database } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 2)
    await registry.promote('resnet', 'staging', { release: 1 }, 'setup')
    // a move by a process that stopped an hour ago: its lock expired long since
    const stale = new AliasLocks(database.db, { ttlMs: -3600_000 })
    await stale.claim('resnet', 'staging')
    t.match(await registry.promote('resnet', 'staging', { release: 2 }, 'bob'), { release: 2, revision: 2 })

    await stale.claim('resnet', 'staging')
    await registry.reconcile()
    const row = await database.db.selectFrom('aliases').selectAll().where('name', '=', 'staging').executeTakeFirstOrThrow()
    t.same([row.lock_token, row.lock_expires_at], [null, null])
    t.match(await registry.getAlias('resnet', 'staging'), { release: 2, revision: 2 }, 'reconcile moved nothing')
  })

  t.test(`${kind}: concurrent first promotions create the alias once and lose no history`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    await registerModelWithReleases(registry, bucket, 'resnet', 2)
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      registry.promote('resnet', 'canary-test', { release: 1 + (i % 2) }, `racer-${i}`)))
    const won = outcomes.filter((o) => o.status === 'fulfilled').length
    const refused = outcomes.filter((o) => o.status === 'rejected')
    t.ok(won >= 1)
    t.ok(refused.every((o) => o.reason instanceof AliasBusyError), 'a loser only ever hears that a move is in flight')
    const alias = await registry.getAlias('resnet', 'canary-test')
    t.equal(alias.revision, won, 'one revision per successful move')
    t.equal((await registry.history('resnet', 'canary-test')).length, won, 'one history entry per successful move')
  })

  t.test(`${kind}: twenty concurrent release registrations are numbered 1 to 20 without gaps or duplicates`, async (t) => {
    const { registry, bucket } = await createTestRegistry(t, kind)
    const [first] = await registerModelWithReleases(registry, bucket, 'resnet', 1)
    const made = await Promise.all(Array.from({ length: 19 }, () => registry.createRelease('resnet', {
      weightsVersionId: first!.weightsVersionId, labelsVersionId: first!.labelsVersionId,
    }, 'racer')))
    t.same(made.map((r) => r.number).sort((a, b) => a - b), Array.from({ length: 19 }, (_, i) => i + 2))
    t.same((await registry.listReleases('resnet')).map((r) => r.number), Array.from({ length: 20 }, (_, i) => i + 1))
  })
}
