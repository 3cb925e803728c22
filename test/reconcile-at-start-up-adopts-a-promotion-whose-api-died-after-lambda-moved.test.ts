import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import Database from 'better-sqlite3'
import { pino } from 'pino'
import { startTestStack } from './helpers/stack.js'
import { colourPhoto } from './helpers/images.js'
import { adminApi, invokeWithTestImage, lambdaAlias, releaseLabel, stackLambda } from './helpers/admin-api.js'
import { loadApiConfig } from '../src/api/config.js'
import { startApiServer } from '../src/api/server.js'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'

t.test('an API killed between moving Lambda\'s alias and recording the move: the next start adopts it with a reconcile entry', async (t) => {
  const stack = await startTestStack(t)
  const dataDir = join(stack.info.adminTokenFile, '..')
  const { accessKeyId, secretAccessKey, region } = stack.info.credentials
  const lambda = stackLambda(t, stack)
  const model = '/v1/models/resnet50'
  const alias = `${model}/aliases/production`
  const bucket = stack.info.buckets.models
  // a gate image, so that the move has a moment (the gate's invocation) between claiming the alias and routing Lambda
  await stack.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'gate/red.jpg', Body: await colourPhoto('red') }))
  t.equal((await adminApi(stack.info.endpoints.api, stack.token).patch(model, { gateImages: [{ bucket, key: 'gate/red.jpg' }] })).status, 200)
  const before = await adminApi(stack.info.endpoints.api, stack.token).get(alias)
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
  const promotion = fetch(`${url}${alias}/promote`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json', 'if-match': before.etag! },
    body: JSON.stringify({ release: 2, reason: 'interrupted' }),
  }).then(() => 'answered', () => 'no answer')
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
  const client = createLambdaClient({ endpoint: stack.info.endpoints.lambda, region, credentials: { accessKeyId, secretAccessKey } })
  t.teardown(() => client.destroy())
  const logger = pino({ level: 'silent' })
  const restarted = await startApiServer(loadApiConfig({
    MODELPIN_API_PORT: '0',
    MODELPIN_DATA_DIR: dataDir,
    AWS_ENDPOINT_URL_S3: stack.info.endpoints.s3,
    AWS_ENDPOINT_URL_LAMBDA: stack.info.endpoints.lambda,
    AWS_REGION: region,
  }), { logger, deployer: new LambdaDeployer({ lambda: client, logger }), s3Credentials: { accessKeyId, secretAccessKey } })
  t.teardown(() => restarted.close())
  const api = adminApi(restarted.url, stack.token)

  const adopted = await api.get(alias)
  t.match(adopted.body, { release: 2, revision: before.body.revision + 1, drift: false, live: { functionVersion: version2, release: 2 } },
    'start-up adopted what Lambda serves')
  const history = (await api.get(`${alias}/history`)).body.history
  t.match(history[0], { action: 'reconcile', fromRelease: 1, toRelease: 2, outcome: 'succeeded' })
  const next = await api.post(`${alias}/rollback`, { reason: 'the alias is free again' }, { 'if-match': adopted.etag! })
  t.equal(next.status, 200, `the alias is not left locked: ${JSON.stringify(next.body)}`)
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version1)
})
