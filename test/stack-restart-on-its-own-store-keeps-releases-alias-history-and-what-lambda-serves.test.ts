import t from 'tap'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { GetAliasCommand, ListVersionsByFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { pino } from 'pino'
import { sideBySideStackOptions, startStack, type Stack, type StackOptions } from '../src/local/stack.js'
import { localS3 } from '../src/local/stack-s3.js'
import { adminClient, promote, succeeded } from './helpers/e2e.js'
import { stackLambdaClient, waitForOutput } from './helpers/local-runtime-e2e.js'

// A stack of its own on a radosgw of its own (its own ports and on-disk store in the data dir, not the tests'
// shared in-memory gateway on 7480), stopped and started again as `npm start` is.

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function lambdaView (stack: Stack): Promise<{ alias: unknown, versions: number }> {
  const lambda: LambdaClient = stackLambdaClient(stack)
  try {
    const { FunctionVersion, RevisionId, RoutingConfig } = await lambda.send(new GetAliasCommand({
      FunctionName: stack.info.function.name, Name: stack.info.function.alias,
    }))
    const versions = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: stack.info.function.name }))
    return { alias: { FunctionVersion, RevisionId, RoutingConfig }, versions: versions.Versions?.length ?? 0 }
  } finally {
    lambda.destroy()
  }
}

async function registryView (stack: Stack): Promise<unknown> {
  const api = adminClient(stack.info.endpoints.api, stack.token)
  const base = `/v1/models/${stack.info.model.name}`
  return {
    releases: succeeded(await api.get(`${base}/releases`)).releases,
    alias: succeeded(await api.get(`${base}/aliases/production`)),
    history: succeeded(await api.get(`${base}/aliases/production/history`)).history,
  }
}

t.test('stop and start on the same data dir keep releases, alias, history and what Lambda serves, and publish nothing', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-persist-'))
  const s3Port = await freePort()
  const said: string[] = []
  const options: StackOptions = {
    ...sideBySideStackOptions({
      dataDir,
      bucketPrefix: '',
      modelKind: 'tiny',
      modelDir: resolve('.modelpin/models/tiny'),
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      say: (line) => said.push(line),
    }),
    s3Port,
  }
  let running: Stack | undefined
  t.teardown(async () => {
    await running?.close()
    // whatever happened above, no daemon of this store outlives the test
    await localS3(['stop'], s3Port, join(dataDir, 's3')).catch(() => {})
    await rm(dataDir, { recursive: true, force: true })
  })

  running = await startStack(options)
  t.equal(running.registry, 'created')
  t.match(said.join('\n'), /no store in .*: radosgw starts on a new, empty one/)
  t.equal(running.info.endpoints.s3, `http://127.0.0.1:${s3Port}`)
  await promote(running, 2)
  const before = { registry: await registryView(running), lambda: await lambdaView(running) }
  await running.close()

  said.length = 0
  const started = Date.now()
  running = await startStack(options)
  t.comment(`restart to ready: ${Date.now() - started} ms`)
  t.equal(running.registry, 'kept')
  t.match(said.join('\n'), /radosgw keeps its objects in/)
  t.match(said.join('\n'), /versions and aliases are those kept in/)
  t.notMatch(said.join('\n'), /pushing release/, 'nothing is promoted again')
  const after = { registry: await registryView(running), lambda: await lambdaView(running) }
  t.same(after, before, 'the same releases, alias, history, Lambda alias (RevisionId included) and versions')
  t.match(after.registry, { alias: { release: 2, drift: false } })

  // the input bucket still invokes the function, now on the restarted runtime's port
  const image = await readFile(join(import.meta.dirname, 'fixtures/photo-500x375.jpg'))
  await running.s3.send(new PutObjectCommand({ Bucket: running.info.buckets.input, Key: 'after-restart.jpg', Body: image }))
  const result = await waitForOutput(running, running.s3, running.info.buckets.output, 'after-restart.jpg.json')
  t.equal(result.input.key, 'after-restart.jpg')
})

t.test('a missing Lambda state on a kept registry starts the runtime empty, says so, and pushes the alias once', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-persist-'))
  const s3Port = await freePort()
  const said: string[] = []
  const options: StackOptions = {
    ...sideBySideStackOptions({
      dataDir,
      bucketPrefix: '',
      modelKind: 'tiny',
      modelDir: resolve('.modelpin/models/tiny'),
      logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      say: (line) => said.push(line),
    }),
    s3Port,
  }
  let running: Stack | undefined
  t.teardown(async () => {
    await running?.close()
    await localS3(['stop'], s3Port, join(dataDir, 's3')).catch(() => {})
    await rm(dataDir, { recursive: true, force: true })
  })
  running = await startStack(options)
  await running.close()
  await rm(join(dataDir, 'lambda-runtime.json'))

  said.length = 0
  running = await startStack(options)
  t.equal(running.registry, 'kept')
  t.match(said.join('\n'), /no saved state in .*lambda-runtime\.json: it starts empty/)
  t.match(said.join('\n'), /the local runtime had no saved state\): pushing release 1/)
  const alias = succeeded(await adminClient(running.info.endpoints.api, running.token).get('/v1/models/resnet50/aliases/production'))
  t.match(alias, { release: 1, drift: false })
  t.not(alias.live, null)
})
