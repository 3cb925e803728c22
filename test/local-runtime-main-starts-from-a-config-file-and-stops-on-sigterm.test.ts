import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { readRuntimeConfig } from '../src/local/lambda-runtime-main.js'
import { handlerPath, lambdaClient, payloadOf } from './helpers/lambda-runtime.js'

const MAIN = fileURLToPath(new URL('../src/local/lambda-runtime-main.ts', import.meta.url))

async function configFile (t: { teardown: (fn: () => unknown) => void }, config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-runtime-config-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'runtime.json')
  await writeFile(path, JSON.stringify(config))
  return path
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('the config file is validated with messages that name the wrong field', async (t) => {
  const path = await configFile(t, { functions: [{ name: 'echo', bundlePath: 'echo.mjs', handler: 'handler', memoryMb: 'lots' }] })
  t.throws(() => readRuntimeConfig(path, {}), /"functions\[0\]\.memoryMb" must be a number/)
  const empty = await configFile(t, { functions: [] })
  t.throws(() => readRuntimeConfig(empty, {}), /"functions" must be a non-empty array/)
  const relative = await configFile(t, { port: 0, functions: [{ name: 'echo', bundlePath: 'echo.mjs', handler: 'handler' }] })
  const config = readRuntimeConfig(relative, { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' })
  t.equal(config.functions[0]?.bundlePath, join(relative, '..', 'echo.mjs'), 'a relative bundlePath is resolved against the config file')
  t.same(config.credentials, { accessKeyId: 'id', secretAccessKey: 'secret' }, 'credentials default to the process\'s own')
  t.equal(config.statePath, undefined, 'without statePath the runtime keeps its functions in memory')
  const kept = await configFile(t, { statePath: 'state.json', functions: [{ name: 'echo', bundlePath: 'echo.mjs', handler: 'handler' }] })
  t.equal(readRuntimeConfig(kept, {}).statePath, join(kept, '..', 'state.json'), 'a relative statePath is resolved against the config file')
})

t.test('the standalone entry serves the configured function and SIGTERM stops it and its environments', async (t) => {
  const path = await configFile(t, {
    port: 0,
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { GREETING: 'standalone' } }],
  })
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, path], {
    env: { ...process.env, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  // the log keeps being read to the end, so the child never writes into a closed pipe
  const url = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const record = JSON.parse(line) as { url?: string }
      if (record.url !== undefined) resolve(record.url)
    })
  })
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  const lambda = lambdaClient(url)
  t.teardown(() => lambda.destroy())
  const body = payloadOf((await lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: '{}' }))).Payload)
  t.equal(body.greeting, 'standalone')
  t.ok(isAlive(body.pid), 'the execution environment runs')

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
  t.notOk(isAlive(body.pid), 'the execution environment is gone too')
})
