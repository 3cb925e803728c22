import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startApiProcess } from './helpers/api-process.js'
import { DATABASE_KINDS, testDatabaseUrl } from './helpers/registry.js'

/** The contract: revoked on one replica, refused on every replica within one second. */
const REVOCATION_DEADLINE_MS = 1000

for (const database of DATABASE_KINDS) {
  t.test(`${database}: two API processes on one database`, async (t) => {
    const folder = await mkdtemp(join(tmpdir(), 'modelpin-revocation-'))
    t.teardown(() => rm(folder, { recursive: true, force: true }))
    const databaseUrl = database === 'postgres' ? await testDatabaseUrl(t, 'postgres') : `sqlite:${join(folder, 'registry.db')}`
    const first = await startApiProcess(t, { databaseUrl, logLevel: 'info' })
    const second = await startApiProcess(t, { databaseUrl, adminToken: first.token, logLevel: 'info' })

    const call = async (url: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number, body: any }> => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) }
    }

    const minted = await call(first.url, 'POST', '/v1/tokens', first.token, { name: 'ci', role: 'viewer' })
    t.equal(minted.status, 201)
    t.equal((await call(second.url, 'GET', '/v1/whoami', minted.body.token)).status, 200, 'the other process serves it')

    t.equal((await call(first.url, 'DELETE', `/v1/tokens/${minted.body.id as string}`, first.token)).status, 204)
    const revokedAt = Date.now()
    let answer
    do {
      answer = await call(second.url, 'GET', '/v1/whoami', minted.body.token)
    } while (answer.status === 200 && Date.now() - revokedAt < REVOCATION_DEADLINE_MS)
    t.equal(answer.status, 401, `refused by the other process within ${REVOCATION_DEADLINE_MS} ms`)
    t.equal(answer.body.error.code, 'unauthorized')
  })
}
