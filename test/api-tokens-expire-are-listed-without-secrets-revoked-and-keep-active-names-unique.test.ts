import t from 'tap'
import { build } from './helpers/app.js'
import { DATABASE_KINDS } from './helpers/registry.js'

for (const database of DATABASE_KINDS) {
  t.test(`${database}: mint with expiry, whoami, list, unique names, revoke, expire`, async (t) => {
    const { api, app, adminToken } = await build(t, { database })

    const minted = await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'promoter', expiresInDays: 30 } })
    t.equal(minted.status, 201)
    t.match(minted.body, { id: /^tok_/, name: 'ci', role: 'promoter', token: /^mp_/, expiresAt: /^\d{4}-\d\d-\d\dT/ })
    const days = (Date.parse(minted.body.expiresAt) - Date.now()) / 86_400_000
    t.ok(days > 29.9 && days <= 30, `expires in 30 days (${days})`)

    const whoami = await api('GET', '/v1/whoami', { token: minted.body.token })
    t.same(whoami.body, { name: 'ci', role: 'promoter', expiresAt: minted.body.expiresAt })
    t.same((await api('GET', '/v1/whoami')).body, { name: 'admin', role: 'admin', expiresAt: null })

    const taken = await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })
    t.equal(taken.status, 409)
    t.equal(taken.body.error.code, 'token_name_taken')

    const list = await api('GET', '/v1/tokens')
    t.equal(list.status, 200)
    t.equal(list.body.tokens.length, 2)
    const ci = list.body.tokens.find((token: any) => token.id === minted.body.id)
    t.same(Object.keys(ci).sort(), ['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'role'])
    t.match(ci, { name: 'ci', role: 'promoter', expiresAt: minted.body.expiresAt, lastUsedAt: /^\d{4}-/, revokedAt: null })
    t.notOk(list.text.includes(minted.body.token) || list.text.includes(adminToken), 'no secret in the list')
    t.equal((await api('GET', '/v1/tokens', { token: minted.body.token })).status, 403, 'a promoter may not list')
    t.equal((await api('DELETE', `/v1/tokens/${minted.body.id}`, { token: minted.body.token })).status, 403)

    const unknown = await api('DELETE', '/v1/tokens/tok_unknown')
    t.equal(unknown.status, 404)
    t.equal(unknown.body.error.code, 'token_not_found')
    t.match(await api('DELETE', '/v1/tokens/not-an-id'), { status: 404, body: { error: { code: 'token_not_found' } } }, 'any id that names no token')
    const admin = list.body.tokens.find((token: any) => token.name === 'admin')
    const bootstrap = await api('DELETE', `/v1/tokens/${admin.id}`)
    t.equal(bootstrap.status, 409)
    t.equal(bootstrap.body.error.code, 'bootstrap_token')

    t.equal((await api('DELETE', `/v1/tokens/${minted.body.id}`)).status, 204)
    t.equal((await api('DELETE', `/v1/tokens/${minted.body.id}`)).status, 204, 'revoking a revoked token answers 204')
    const revoked = await api('GET', '/v1/whoami', { token: minted.body.token })
    t.equal(revoked.status, 401)
    t.equal(revoked.body.error.code, 'unauthorized')
    t.match((await api('GET', '/v1/tokens')).body.tokens.find((token: any) => token.id === minted.body.id), { revokedAt: /^\d{4}-/ })
    t.equal((await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201, 'the name is free again')

    const short = await api('POST', '/v1/tokens', { body: { name: 'short-lived', role: 'viewer', expiresInDays: 1 } })
    t.equal(short.status, 201)
    // a day later, without waiting a day: the row's expiry is moved into the past
    await app.database.db.updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', short.body.id).execute()
    const expired = await api('GET', '/v1/whoami', { token: short.body.token })
    t.equal(expired.status, 401)
    t.equal(expired.body.error.code, 'token_expired')

    for (const expiresInDays of [0, 3651, 1.5, 'a week', null]) {
      const refused = await api('POST', '/v1/tokens', { body: { name: 'x', role: 'viewer', expiresInDays } })
      t.equal(refused.status, 400, `expiresInDays ${JSON.stringify(expiresInDays)} is refused`)
    }
  })
}
