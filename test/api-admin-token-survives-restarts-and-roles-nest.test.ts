import { stat, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { build } from './helpers/app.js'

t.test('the admin token is written to <data dir>/admin-token (mode 0600) and reused after a restart and a database reset', async (t) => {
  const first = await build(t)
  const file = join(first.dataDir, 'admin-token')
  t.equal(await readFile(file, 'utf8'), `${first.adminToken}\n`)
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.match(first.adminToken, /^mp_[\w-]{40,}$/)
  await first.app.close()

  const restarted = await build(t, { dataDir: first.dataDir })
  t.equal(restarted.adminToken, first.adminToken, 'same token after a restart')
  t.equal((await restarted.api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201)
  await restarted.app.close()

  await rm(join(first.dataDir, 'registry.db'))
  const reset = await build(t, { dataDir: first.dataDir })
  t.equal(reset.adminToken, first.adminToken, 'same token after the database is reset')
  t.equal((await reset.api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201)
})

t.test('MODELPIN_ADMIN_TOKEN is the admin token when set, and is written to the file', async (t) => {
  const token = 'configured-admin-token-0123456789'
  const { adminToken, api, dataDir } = await build(t, { config: { adminToken: token } })
  t.equal(adminToken, token)
  t.equal(await readFile(join(dataDir, 'admin-token'), 'utf8'), `${token}\n`)
  t.equal((await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201)
})

t.test('a request without a token, with a wrong one or with another scheme answers 401 unauthorized', async (t) => {
  const { api } = await build(t)
  const body = { name: 'x', role: 'viewer' }
  for (const [what, headers] of [
    ['no Authorization header', {}],
    ['an unknown token', { authorization: 'Bearer mp_not-a-real-token' }],
    ['Basic credentials', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ] as const) {
    const res = await api('POST', '/v1/tokens', { token: null, headers, body })
    t.equal(res.status, 401, what)
    t.equal(res.body.error.code, 'unauthorized', what)
  }
})

t.test('an admin mints a token of each role, returned once with its name and role', async (t) => {
  const { api } = await build(t)
  for (const role of ['viewer', 'promoter', 'admin']) {
    const res = await api('POST', '/v1/tokens', { body: { name: `ci-${role}`, role } })
    t.equal(res.status, 201)
    t.equal(res.body.name, `ci-${role}`)
    t.equal(res.body.role, role)
    t.match(res.body.token, /^mp_/)
  }
  const bad = await api('POST', '/v1/tokens', { body: { name: 'x', role: 'root' } })
  t.equal(bad.status, 400)
  t.equal(bad.body.error.code, 'invalid_input')
  const badName = await api('POST', '/v1/tokens', { body: { name: 'has space', role: 'viewer' } })
  t.equal(badName.status, 400)
  t.equal(badName.body.error.code, 'invalid_input')
})
