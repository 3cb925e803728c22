import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateAliasCommand, GetAliasCommand, GetFunctionConfigurationCommand, InvokeCommand, ListVersionsByFunctionCommand,
  PublishVersionCommand, UpdateAliasCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { handlerPath, payloadOf, startTestRuntime, testLogger } from './helpers/lambda-runtime.js'
import { startLambdaRuntime } from '../src/local/lambda-runtime/index.js'

const echo = { name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { GREETING: 'one' } }

async function stateDir (t: { teardown: (fn: () => unknown) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-runtime-state-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function publishWithGreeting (lambda: LambdaClient, greeting: string): Promise<string> {
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Environment: { Variables: { GREETING: greeting } } }))
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30, minDelay: 1 }, { FunctionName: 'echo' })
  return (await lambda.send(new PublishVersionCommand({ FunctionName: 'echo' }))).Version!
}

t.test('a restart on the same state file answers the same $LATEST, versions and alias, RevisionIds included', async (t) => {
  const statePath = join(await stateDir(t), 'lambda-runtime.json')
  const first = await startTestRuntime(t, { functions: [echo], statePath, updateDelayMs: 50 })
  t.equal(first.runtime.controlPlane, 'new')
  const v1 = await publishWithGreeting(first.lambda, 'one')
  const v2 = await publishWithGreeting(first.lambda, 'two')
  await first.lambda.send(new CreateAliasCommand({ FunctionName: 'echo', Name: 'live', FunctionVersion: v1 }))
  await first.lambda.send(new UpdateAliasCommand({
    FunctionName: 'echo', Name: 'live', FunctionVersion: v1, RoutingConfig: { AdditionalVersionWeights: { [v2]: 0.25 } },
  }))
  const alias = await first.lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))
  const latest = await first.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  const versions = (await first.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }))).Versions
  await first.runtime.close()

  const second = await startTestRuntime(t, { functions: [echo], statePath })
  t.equal(second.runtime.controlPlane, 'restored')
  const keptAlias = await second.lambda.send(new GetAliasCommand({ FunctionName: 'echo', Name: 'live' }))
  t.same(
    { v: keptAlias.FunctionVersion, r: keptAlias.RevisionId, w: keptAlias.RoutingConfig },
    { v: v1, r: alias.RevisionId, w: { AdditionalVersionWeights: { [v2]: 0.25 } } }
  )
  const keptLatest = await second.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  t.equal(keptLatest.RevisionId, latest.RevisionId)
  t.same(keptLatest.Environment?.Variables, { GREETING: 'two' })
  const keptVersions = (await second.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: 'echo' }))).Versions
  t.same(keptVersions?.map((v) => [v.Version, v.RevisionId, v.CodeSha256]), versions?.map((v) => [v.Version, v.RevisionId, v.CodeSha256]))
  const invoked = await second.lambda.send(new InvokeCommand({ FunctionName: 'echo', Qualifier: v1, Payload: JSON.stringify({ hi: 1 }) }))
  t.equal(invoked.ExecutedVersion, v1)
  t.equal(payloadOf(invoked.Payload).greeting, 'one', 'version 1 still runs with its own configuration')
  // the next version number continues where the first run stopped
  t.equal(await publishWithGreeting(second.lambda, 'three'), String(Number(v2) + 1))
  t.same((await readdir(join(statePath, '..'))).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left behind')
})

t.test('an update still in progress when the runtime stopped has completed at the next start', async (t) => {
  const statePath = join(await stateDir(t), 'lambda-runtime.json')
  const first = await startTestRuntime(t, { functions: [echo], statePath, updateDelayMs: 60_000 })
  const updated = await first.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'echo', Timeout: 9 }))
  t.equal(updated.LastUpdateStatus, 'InProgress')
  await first.runtime.close()
  const second = await startTestRuntime(t, { functions: [echo], statePath })
  const after = await second.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'echo' }))
  t.equal(after.LastUpdateStatus, 'Successful')
  t.equal(after.Timeout, 9)
  t.not(after.RevisionId, updated.RevisionId, 'completing the update gave $LATEST a new RevisionId')
})

t.test('without a state file the runtime starts from its config, and writes the file at once', async (t) => {
  const statePath = join(await stateDir(t), 'lambda-runtime.json')
  const { runtime } = await startTestRuntime(t, { functions: [echo], statePath })
  t.equal(runtime.controlPlane, 'new')
  const written = JSON.parse(await readFile(statePath, 'utf8'))
  t.same(written.functions.map((f: { name: string }) => f.name), ['echo'])
  const inMemory = await startTestRuntime(t, { functions: [echo] })
  t.equal(inMemory.runtime.controlPlane, 'memory')
})

t.test('a damaged state file stops the start with a message naming the file', async (t) => {
  const statePath = join(await stateDir(t), 'lambda-runtime.json')
  await writeFile(statePath, '{"format": "something else"}')
  await t.rejects(startLambdaRuntime({ functions: [echo], statePath, port: 0, logger: testLogger() }),
    { name: 'RuntimeStateFileError', message: new RegExp(`${statePath}.*remove the file`) })
})
