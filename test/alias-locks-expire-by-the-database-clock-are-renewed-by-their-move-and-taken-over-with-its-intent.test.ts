import { hostname } from 'node:os'
import { sql } from 'kysely'
import t from 'tap'
import { AliasLocks } from '../src/registry/alias-locks.js'
import { AliasBusyError, RevisionMismatchError } from '../src/registry/errors.js'
import { DATABASE_KINDS, openTestDatabase } from './helpers/registry.js'

/** Only turns a renewal that never comes into a failure. */
const LIMIT_MS = 10_000

const intent = {
  entry: { action: 'promote' as const, actor: 'alice', reason: 'why', fromRelease: 1, toRelease: 2, detail: null },
  state: { release: 2, canary: null },
  versions: { main: '2', canary: null },
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: alias locks`, async (t) => {
    const database = await openTestDatabase(t, kind)
    const { db } = database
    await db.insertInto('models').values({
      name: 'm',
      bucket: 'b',
      weights_key: 'w',
      labels_key: 'l',
      function_name: null,
      function_alias: 'live',
      deploy_alias: 'production',
      gate_images: '[]',
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
    }).execute()
    const row = async () => await db.selectFrom('aliases').selectAll().where('model', '=', 'm').where('name', '=', 'production').executeTakeFirstOrThrow()
    const databaseNow = async (): Promise<number> => {
      const query = kind === 'postgres' ? sql<{ now: Date }>`select now() as now` : sql<{ now: string }>`select strftime('%Y-%m-%dT%H:%M:%fZ', 'now') as now`
      return new Date((await query.execute(db)).rows[0]!.now).getTime()
    }

    t.test('a lock names its owner and expires one TTL after the database\'s now', async (t) => {
      const locks = new AliasLocks(db, { ttlMs: 60_000 })
      const lock = await locks.claim('m', 'production', { create: true })
      const held = await row()
      t.equal(held.lock_owner, `${hostname()}:${process.pid}`)
      const expiresIn = new Date(held.lock_expires_at!).getTime() - await databaseNow()
      t.ok(expiresIn > 50_000 && expiresIn <= 60_000, `expires in ${expiresIn} ms by the database's clock`)
      t.equal(lock.takenOver, null, 'a free alias is claimed, not taken over')
      await t.rejects(new AliasLocks(db, { ttlMs: 60_000, owner: 'other:1' }).claim('m', 'production'), AliasBusyError, 'a live lock is not taken')
      await t.rejects(new AliasLocks(db, { owner: 'other:1' }).claim('m', 'production', { ifMatch: 0 }), RevisionMismatchError)
      await locks.release(lock)
      t.match(await row(), { lock_token: null, lock_expires_at: null, lock_owner: null, intent_action: null })
    })

    t.test('the heartbeat renews a lock past its first expiry while its move runs, and stops when told', async (t) => {
      const locks = new AliasLocks(db, { ttlMs: 900 })
      const lock = await locks.claim('m', 'production')
      const first = (await row()).lock_expires_at!
      const beat = locks.heartbeat(lock)
      // wait until the database's clock is past the first expiry: the lock must still be held, renewed
      const deadline = Date.now() + LIMIT_MS
      while (await databaseNow() <= new Date(first).getTime() + 300 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      t.ok((await row()).lock_expires_at! > first, 'renewed')
      await t.rejects(new AliasLocks(db, { owner: 'other:1' }).claim('m', 'production'), AliasBusyError, 'still live')
      t.ok(await locks.held(lock))
      beat.stop()
      await locks.release(lock)
    })

    t.test('a lock past its expiry is taken over with the move its holder intended', async (t) => {
      const dead = new AliasLocks(db, { ttlMs: -1000, owner: 'dead-host:42' })
      const lock = await dead.claim('m', 'production')
      t.ok(await dead.recordIntent(lock, intent))
      const taker = new AliasLocks(db, { owner: 'taker:7' })
      const taken = await taker.claim('m', 'production')
      t.same(taken.takenOver, { owner: 'dead-host:42', intent }, 'the taker learns who held it and what it intended')
      t.equal((await row()).lock_owner, 'taker:7')
      t.notOk(await dead.renew(lock), 'the old holder can no longer renew')
      t.notOk(await dead.held(lock))
      t.notOk(await dead.recordIntent(lock, intent), 'nor record an intent')
      const lost = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), LIMIT_MS)
        const beat = dead.heartbeat(lock, () => {
          clearTimeout(timer)
          beat.stop()
          resolve(true)
        })
      })
      t.ok(lost, 'its heartbeat reports the loss')
      await taker.release(taken)
    })
  })
}
