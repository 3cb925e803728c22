import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

const run = promisify(execFile)

// The CLI with dummy credentials and no user configuration: it signs with SigV4, which the runtime accepts unread.
const CLI_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: tmpdir(),
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/dev/null',
  AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  AWS_PAGER: '',
}

async function cliMajorVersion (): Promise<number> {
  const { stdout, stderr } = await run('aws', ['--version'], { env: CLI_ENV })
  const match = /aws-cli\/(\d+)/.exec(stdout + stderr)
  if (match === null) throw new Error(`cannot read the AWS CLI version from "${stdout}${stderr}"`)
  return Number(match[1])
}

t.test('the AWS CLI publishes a version, creates an alias and invokes it through the runtime', async (t) => {
  const { runtime } = await startTestRuntime(t, {
    functions: [{ name: 'echo', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { GREETING: 'from the cli' } }],
  })
  const dir = await mkdtemp(join(tmpdir(), 'lambda-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // v2 reads a blob argument as base64 unless told otherwise; v1 sends it as given and knows no such option
  const binaryFormat = await cliMajorVersion() >= 2 ? ['--cli-binary-format', 'raw-in-base64-out'] : []
  const aws = async (...args: string[]) => {
    const { stdout } = await run('aws', ['lambda', ...args, '--endpoint-url', runtime.url, '--output', 'json'], { env: CLI_ENV })
    return stdout.trim() === '' ? {} : JSON.parse(stdout)
  }

  const published = await aws('publish-version', '--function-name', 'echo', '--description', 'cli release')
  t.equal(published.Version, '1')
  const alias = await aws('create-alias', '--function-name', 'echo', '--name', 'live', '--function-version', '1')
  t.equal(alias.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:echo:live')

  const out = join(dir, 'out.json')
  const invoked = await aws('invoke', '--function-name', 'echo', '--qualifier', 'live', ...binaryFormat,
    '--payload', '{"image":{"bucket":"b","key":"k"}}', out)
  t.equal(invoked.StatusCode, 200)
  t.equal(invoked.ExecutedVersion, '1')
  t.equal(invoked.FunctionError, undefined)
  const payload = JSON.parse(await readFile(out, 'utf8'))
  t.same(payload.event, { image: { bucket: 'b', key: 'k' } })
  t.equal(payload.greeting, 'from the cli')
  t.equal(payload.context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:echo:live')

  const failed = await run('aws', ['lambda', 'get-function', '--function-name', 'nope', '--endpoint-url', runtime.url], { env: CLI_ENV })
    .then(() => undefined, (error: { code: number, stderr: string }) => error)
  t.equal(failed?.code, 255, 'the CLI exits with its error status')
  t.match(failed?.stderr, /\(ResourceNotFoundException\) when calling the GetFunction operation: Function not found/)
})
