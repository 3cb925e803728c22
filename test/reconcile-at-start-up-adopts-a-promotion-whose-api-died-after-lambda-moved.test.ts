import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import Database from 'better-sqlite3'
import { invokeWithTestImage, lambdaAlias, releaseLabel } from './helpers/admin-api.js'
import { adminClient, restartApi, startEndToEnd } from './helpers/e2e.js'

t.test('an API killed between moving Lambda\'s alias and recording the move: the next start settles it with one entry of the move', async (t) => {
  // a gate image, so that the move has a moment (the gate's invocation) between claiming the alias and routing Lambda
  const { stack, api: stackApi, lambda, photos: { bucket } } = await startEndToEnd(t, { photos: { 'gate/red.jpg': 'red' } })
  const dataDir = join(stack.info.adminTokenFile, '..')
  const { accessKeyId, secretAccessKey, region } = stack.info.credentials
  const model = '/v1/models/resnet50'
  const alias = `${model}/aliases/production`
  t.equal((await stackApi.patch(model, { gateImages: [{ bucket, key: 'gate/red.jpg' }] })).status, 200)
  const before = await stackApi.get(alias)
  const version1 = (await lambdaAlias(lambda, stack)).functionVersion
  await stack.api.close()

  // the production entry as its own process, on the stack's data dir and Lambda runtime
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/api/main.ts'], {
    env: {
      ...process.env,
      MODELPIN_DATA_DIR: dataDir,
      MODELPIN_API_PORT: '0',
      AWS_ENDPOINT_URL_S3: stack.info.endpoints.s3,
      AWS_ENDPOINT_URL_LAMBDA: stack.info.endpoints.lambda,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const exited = once(child, 'exit')
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  const logLine = async (msg: string): Promise<Record<string, unknown>> => {
    for (;;) {
      const next = await lines.next()
      if (next.done === true) throw new Error(`the API exited before logging "${msg}"`)
      const entry = JSON.parse(next.value) as Record<string, unknown>
      if (entry.msg === msg) return entry
    }
  }
  const url = (await logLine('modelpin admin API listening')).url as string

  // While the gate runs, the test takes SQLite's write lock, so the move can route Lambda but not record itself.
  const sqlite = new Database(join(dataDir, 'registry.db'))
  t.teardown(() => { if (sqlite.open) sqlite.close() })
  stack.runtime.once('environment-started', () => { sqlite.exec('BEGIN IMMEDIATE') })
  const promotion = adminClient(url, stack.token).post(`${alias}/promote`, { release: 2, reason: 'interrupted' }, { 'if-match': before.etag! })
    .then(() => 'answered', () => 'no answer')
  await logLine('alias moved') // the deployer's line once Lambda's alias points at the new version
  child.kill('SIGKILL')
  await exited
  t.equal(await promotion, 'no answer', 'the API died before answering')
  sqlite.exec('ROLLBACK')
  sqlite.close()

  const version2 = (await lambdaAlias(lambda, stack)).functionVersion
  t.not(version2, version1, 'Lambda serves the new version')
  t.equal((await invokeWithTestImage(lambda, stack)).body.predictions[0].label, releaseLabel(2))

  // the next start of the API, as startStack builds it
  const api = await restartApi(t, stack)

  const adopted = await api.get(alias)
  t.match(adopted.body, { release: 2, revision: before.body.revision + 1, drift: false, live: { functionVersion: version2, release: 2 } },
    'start-up adopted what Lambda serves')
  const history = (await api.get(`${alias}/history`)).body.history
  // the move's intent was recorded with its lock: the entry is the move's own, not a `reconcile` (no drift to explain)
  t.match(history[0], { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'succeeded', reason: 'interrupted', detail: /^settled by reconcile/ })
  t.equal(history.filter((entry: { reason: string | null }) => entry.reason === 'interrupted').length, 1, 'one entry for the move')
  const next = await api.post(`${alias}/rollback`, { reason: 'the alias is free again' }, { 'if-match': adopted.etag! })
  t.equal(next.status, 200, `the alias is not left locked: ${JSON.stringify(next.body)}`)
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version1)
})
