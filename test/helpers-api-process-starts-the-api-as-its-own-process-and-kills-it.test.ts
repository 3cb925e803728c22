import t from 'tap'
import { startApiProcess } from './helpers/api-process.js'
import { createTestDatabase } from './helpers/pg.js'

async function listModels (url: string, token: string): Promise<unknown> {
  const answer = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })
  return { status: answer.status, body: await answer.json() }
}

t.test('on SQLite: it serves once ready, SIGKILL ends it at once, and a restart on the same data serves again', async (t) => {
  const api = await startApiProcess(t)
  t.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.not(api.pid, process.pid)
  t.same(await listModels(api.url, api.token), { status: 200, body: { models: [] } })
  api.kill('SIGKILL')
  t.same(await api.exited, { code: null, signal: 'SIGKILL' })
  await t.rejects(fetch(`${api.url}/healthz`), 'nothing answers any more')

  const again = await startApiProcess(t, api.options)
  t.equal(again.dataDir, api.dataDir)
  t.same(await listModels(again.url, api.token), { status: 200, body: { models: [] } }, 'the same token still works')
})

t.test('on PostgreSQL: its log is readable and it exits 0 on SIGTERM', async (t) => {
  const databaseUrl = await createTestDatabase(t)
  const api = await startApiProcess(t, { databaseUrl })
  t.same(await listModels(api.url, api.token), { status: 200, body: { models: [] } })
  t.ok(api.log.some((entry) => entry.msg === 'incoming request'), 'the log has its requests')
  api.kill('SIGTERM')
  await api.waitForLog((entry) => entry.msg === 'shutting down')
  t.same(await api.exited, { code: 0, signal: null })
})

t.test('a process that cannot start rejects with what it said', async (t) => {
  await t.rejects(startApiProcess(t, { env: { LOG_LEVEL: 'loud' } }), /LOG_LEVEL must be one of/)
})
