import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../src/api/app.js'
import { build } from './helpers/app.js'
import { DATABASE_KINDS, testDatabaseUrl } from './helpers/registry.js'
import { S3_CREDENTIALS } from './helpers/s3.js'

for (const database of DATABASE_KINDS) {
  t.test(`${database}: a start with a new admin token revokes the old one; a start with the old one is refused`, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-rotation-'))
    t.teardown(() => rm(dataDir, { recursive: true, force: true }))
    const databaseUrl = database === 'postgres' ? await testDatabaseUrl(t, 'postgres') : `sqlite:${join(dataDir, 'registry.db')}`
    const first = 'first-bootstrap-admin-token-0001'
    const second = 'second-bootstrap-admin-token-0002'

    const one = await build(t, { database, dataDir, config: { databaseUrl, adminToken: first } })
    t.equal((await one.api('GET', '/v1/whoami', { token: first })).status, 200)
    const viewer = await one.api('POST', '/v1/tokens', { body: { name: 'reader', role: 'viewer' } })
    await one.app.close()

    const two = await build(t, { database, dataDir, config: { databaseUrl, adminToken: second } })
    const old = await two.api('GET', '/v1/whoami', { token: first })
    t.equal(old.status, 401, 'the earlier bootstrap token is revoked')
    t.same((await two.api('GET', '/v1/whoami', { token: second })).body, { name: 'admin', role: 'admin', expiresAt: null })
    t.equal((await two.api('GET', '/v1/whoami', { token: viewer.body.token })).status, 200, 'minted tokens are untouched')
    const tokens = (await two.api('GET', '/v1/tokens', { token: second })).body.tokens
    t.equal(tokens.filter((token: any) => token.name === 'admin' && token.revokedAt !== null).length, 1)
    t.equal(tokens.filter((token: any) => token.name === 'admin' && token.revokedAt === null).length, 1)
    await two.app.close()

    await t.rejects(
      buildApp({ ...two.config, adminToken: first }, { s3Credentials: S3_CREDENTIALS }),
      { message: /^MODELPIN_ADMIN_TOKEN does not hold a usable admin token: it was revoked at / },
      'a process with the revoked token refuses to start and says why'
    )
  })
}
