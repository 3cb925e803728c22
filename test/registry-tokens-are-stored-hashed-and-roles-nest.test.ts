import { createHash } from 'node:crypto'
import t from 'tap'
import { InvalidInputError } from '../src/registry/errors.js'
import { roleAllows, TokenStore } from '../src/registry/tokens.js'
import { DATABASE_KINDS, openTestDatabase } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a minted token verifies to its name and role, and only its sha256 is stored`, async (t) => {
    const { db } = await openTestDatabase(t, kind)
    const tokens = new TokenStore(db)
    const minted = await tokens.mint('ci', 'promoter')
    t.match(minted.token, /^mp_[A-Za-z0-9_-]{43}$/)
    t.same(await tokens.verify(minted.token), { name: 'ci', role: 'promoter' })
    t.equal(await tokens.verify(minted.token + 'x'), null)
    t.equal(await tokens.verify(''), null)

    const rows = await db.selectFrom('api_tokens').selectAll().execute()
    t.equal(rows.length, 1)
    t.equal(rows[0]?.token_sha256, createHash('sha256').update(minted.token).digest('hex'))
    t.notOk(JSON.stringify(rows).includes(minted.token), 'the token itself is nowhere in the table')

    const other = await tokens.mint('ci', 'viewer')
    t.not(other.token, minted.token)
    t.same(await tokens.verify(other.token), { name: 'ci', role: 'viewer' })
  })

  t.test(`${kind}: ensure bootstraps a given token idempotently`, async (t) => {
    const { db } = await openTestDatabase(t, kind)
    const tokens = new TokenStore(db)
    const token = 'a-bootstrap-admin-token-from-the-environment'
    await tokens.ensure('admin', 'admin', token)
    await tokens.ensure('admin', 'admin', token)
    t.same(await tokens.verify(token), { name: 'admin', role: 'admin' })
    const { n } = await db.selectFrom('api_tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()
    t.equal(Number(n), 1)
    await t.rejects(tokens.ensure('admin', 'admin', 'short'), InvalidInputError)
    await t.rejects(tokens.mint('bad name', 'viewer'), InvalidInputError)
    await t.rejects(tokens.mint('x', 'root' as never), InvalidInputError)
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
