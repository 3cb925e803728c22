import { createHash } from 'node:crypto'
import t from 'tap'
import { BootstrapTokenError, InvalidInputError, TokenNameTakenError, TokenNotFoundError } from '../src/registry/errors.js'
import { roleAllows, TokenStore } from '../src/registry/tokens.js'
import { DATABASE_KINDS, openTestDatabase } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a minted token verifies to its name and role, and only its sha256 is stored`, async (t) => {
    const { db } = await openTestDatabase(t, kind)
    const tokens = new TokenStore(db)
    const minted = await tokens.mint('ci', 'promoter')
    t.match(minted.token, /^mp_[A-Za-z0-9_-]{43}$/)
    t.match(minted.id, /^tok_/)
    t.equal(minted.expiresAt, null)
    t.same(await tokens.verify(minted.token), { name: 'ci', role: 'promoter' })
    t.equal(await tokens.verify(minted.token + 'x'), null)
    t.equal(await tokens.verify(''), null)

    const rows = await db.selectFrom('api_tokens').selectAll().execute()
    t.equal(rows.length, 1)
    t.equal(rows[0]?.token_sha256, createHash('sha256').update(minted.token).digest('hex'))
    t.notOk(JSON.stringify(rows).includes(minted.token), 'the token itself is nowhere in the table')
    t.notOk(JSON.stringify(await tokens.list()).includes(rows[0]!.token_sha256), 'the list shows no hash')

    await t.rejects(tokens.mint('ci', 'viewer'), TokenNameTakenError, 'an active token has the name')
    await tokens.revoke(minted.id)
    const other = await tokens.mint('ci', 'viewer')
    t.not(other.token, minted.token)
    t.same(await tokens.verify(other.token), { name: 'ci', role: 'viewer' }, 'the name is free once the holder is revoked')
    t.same(await tokens.check(minted.token), { status: 'revoked' })
    await t.rejects(tokens.mint('bad name', 'viewer'), InvalidInputError)
    await t.rejects(tokens.mint('x', 'root' as never), InvalidInputError)
    await t.rejects(tokens.mint('x', 'viewer', { expiresInDays: 0 }), InvalidInputError)
    await t.rejects(tokens.mint('x', 'viewer', { expiresInDays: 3651 }), InvalidInputError)
  })

  t.test(`${kind}: a token expires after its days, frees its name, and records its use at most once a minute`, async (t) => {
    const { db } = await openTestDatabase(t, kind)
    let now = new Date('2030-01-01T00:00:00.000Z')
    const tokens = new TokenStore(db, () => now)
    const minted = await tokens.mint('ci', 'viewer', { expiresInDays: 2 })
    t.equal(minted.expiresAt, '2030-01-03T00:00:00.000Z')

    t.equal((await tokens.check(minted.token)).status, 'valid')
    t.equal((await tokens.list())[0]?.lastUsedAt, '2030-01-01T00:00:00.000Z')
    now = new Date(now.getTime() + 59_000)
    await tokens.check(minted.token)
    t.equal((await tokens.list())[0]?.lastUsedAt, '2030-01-01T00:00:00.000Z', 'not written again within the minute')
    now = new Date(now.getTime() + 2000)
    await tokens.check(minted.token)
    t.equal((await tokens.list())[0]?.lastUsedAt, '2030-01-01T00:01:01.000Z', 'written again once the minute passed')

    now = new Date('2030-01-03T00:00:00.000Z')
    t.same(await tokens.check(minted.token), { status: 'expired' })
    const again = await tokens.mint('ci', 'viewer')
    t.equal((await tokens.check(again.token)).status, 'valid', 'an expired token no longer holds its name')
  })

  t.test(`${kind}: revoking: unknown id 404, a revoked one again changes nothing, the bootstrap token is refused`, async (t) => {
    const { db } = await openTestDatabase(t, kind)
    const tokens = new TokenStore(db)
    await t.rejects(tokens.revoke('tok_nope'), TokenNotFoundError)
    const minted = await tokens.mint('ci', 'viewer')
    await tokens.revoke(minted.id)
    const revokedAt = (await tokens.list())[0]?.revokedAt
    t.ok(revokedAt)
    await tokens.revoke(minted.id)
    t.equal((await tokens.list())[0]?.revokedAt, revokedAt, 'the first revocation stands')

    const bootstrap = 'a-bootstrap-admin-token-from-the-environment'
    await tokens.bootstrap('admin', bootstrap)
    const id = (await tokens.list()).find((token) => token.name === 'admin')!.id
    await t.rejects(tokens.revoke(id), BootstrapTokenError)
  })

  t.test(`${kind}: bootstrap records a new token once, revokes the earlier ones, and refuses a revoked one`, async (t) => {
    const { db } = await openTestDatabase(t, kind)
    const tokens = new TokenStore(db)
    const first = 'the-first-bootstrap-admin-token'
    const second = 'the-second-bootstrap-admin-token'
    t.same(await tokens.bootstrap('admin', first), { rotated: 0 })
    t.same(await tokens.bootstrap('admin', first), { rotated: 0 }, 'a restart with the same token changes nothing')
    t.same(await tokens.verify(first), { name: 'admin', role: 'admin' })
    t.same(await tokens.bootstrap('admin', second), { rotated: 1 })
    t.same(await tokens.check(first), { status: 'revoked' })
    t.same(await tokens.verify(second), { name: 'admin', role: 'admin' })
    await t.rejects(tokens.bootstrap('admin', first), { message: /was revoked at/ })
    t.equal((await tokens.list()).length, 2)
    await t.rejects(tokens.bootstrap('admin', 'short'), InvalidInputError)
  })
}

t.test('roles nest: viewer < promoter < admin', async (t) => {
  t.ok(roleAllows('admin', 'viewer'))
  t.ok(roleAllows('admin', 'promoter'))
  t.ok(roleAllows('admin', 'admin'))
  t.ok(roleAllows('promoter', 'viewer'))
  t.ok(roleAllows('promoter', 'promoter'))
  t.notOk(roleAllows('promoter', 'admin'))
  t.ok(roleAllows('viewer', 'viewer'))
  t.notOk(roleAllows('viewer', 'promoter'))
  t.notOk(roleAllows('nobody' as never, 'viewer'))
})
