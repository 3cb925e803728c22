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

/**
 * Options for a stack on a radosgw of its own (a free port, its store in a temporary data dir), what it said, and a
 * `start` whose latest stack is closed after the test, with the store's daemons stopped and the data dir removed.
 */
async function ownStack (t: { teardown: (fn: () => unknown) => void }): Promise<{
  options: StackOptions, said: string[], start: () => Promise<Stack>
}> {
  const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-persist-'))
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
    s3Port: await freePort(),
  }
  let running: Stack | undefined
  t.teardown(async () => {
    await running?.close()
    // whatever happened in the test, no daemon of this store outlives it
    await localS3(['stop'], options.s3Port, join(dataDir, 's3')).catch(() => {})
    await rm(dataDir, { recursive: true, force: true })
  })
  return { options, said, start: async () => (running = await startStack(options)) }
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
  const { options, said, start } = await ownStack(t)
  let running = await start()
  t.equal(running.registry, 'created')
  t.match(said.join('\n'), /no store in .*: radosgw starts on a new, empty one/)
  t.equal(running.info.endpoints.s3, `http://127.0.0.1:${options.s3Port}`)
  await promote(running, 2)
  const before = { registry: await registryView(running), lambda: await lambdaView(running) }
  await running.close()

  said.length = 0
  const started = Date.now()
  running = await start()
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
  const { options, said, start } = await ownStack(t)
  await (await start()).close()
  await rm(join(options.dataDir, 'lambda-runtime.json'))

  said.length = 0
  const running = await start()
  t.equal(running.registry, 'kept')
  t.match(said.join('\n'), /no saved state in .*lambda-runtime\.json: it starts empty/)
  t.match(said.join('\n'), /the local runtime had no saved state\): pushing release 1/)
  const alias = succeeded(await adminClient(running.info.endpoints.api, running.token).get('/v1/models/resnet50/aliases/production'))
  t.match(alias, { release: 1, drift: false })
  t.not(alias.live, null)
})

t.test('a wiped store resets the registry and the Lambda state, says so, and registers the demo again', async (t) => {
  const { options, said, start } = await ownStack(t)
  const first = await start()
  await promote(first, 2)
  await first.close()
  await rm(join(options.dataDir, 's3'), { recursive: true })

  said.length = 0
  const running = await start()
  t.equal(running.registry, 'reset')
  const log = said.join('\n')
  t.match(log, /no store in .*: radosgw starts on a new, empty one/)
  t.match(log, /registry is reset/)
  t.match(log, /saved functions, versions and aliases are dropped/)
  const alias = succeeded(await adminClient(running.info.endpoints.api, running.token).get('/v1/models/resnet50/aliases/production'))
  t.match(alias, { release: 1, drift: false, live: { functionVersion: '1' } }, 'Lambda starts again from version 1')
})
