import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { InvokeCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { deployedRelease, startEndToEnd } from './helpers/e2e.js'
import { invoke } from './helpers/local-runtime-e2e.js'
import { expectedTopLabel } from './helpers/models.js'

const run = promisify(execFile)

// One stack for the file: every test below reads it and none moves an alias.
const { stack, lambda, photos: { bucket: images } } = await startEndToEnd(t, {
  photos: { 'red.jpg': 'red', 'notes.txt': Buffer.from('not an image at all\n') },
})
const qualified = `${stack.info.function.name}:${stack.info.function.alias}`

t.test('@aws-sdk/client-lambda invokes modelpin-inference:live and gets predictions pinned to the release on production', async (t) => {
  const { release, functionVersion } = await deployedRelease(stack)
  t.equal(release.number, 1, 'the stack puts production on release 1')
  const response = await lambda.send(new InvokeCommand({
    FunctionName: qualified,
    Payload: Buffer.from(JSON.stringify({ image: { bucket: images, key: 'red.jpg' }, topK: 3 })),
  }))
  t.equal(response.StatusCode, 200)
  t.equal(response.FunctionError, undefined)
  t.equal(response.ExecutedVersion, functionVersion, 'the alias runs the version the API says is live')
  const body = JSON.parse(Buffer.from(response.Payload!).toString('utf8'))
  t.match(body.model, {
    bucket: stack.info.buckets.models,
    weightsKey: stack.info.model.weightsKey,
    labelsKey: stack.info.model.labelsKey,
    weightsVersionId: release.weightsVersionId,
    labelsVersionId: release.labelsVersionId,
  })
  t.equal(body.predictions.length, 3)
  t.equal(body.predictions[0].label, expectedTopLabel(1, 1, 'red'), 'release 1 (weights 1, labels 1) answered')
})

t.test('the AWS CLI invokes modelpin-inference:live with the stack\'s keys and gets the same pins', async (t) => {
  const { release, functionVersion } = await deployedRelease(stack)
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-cli-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    AWS_ACCESS_KEY_ID: stack.info.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.info.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: stack.info.credentials.region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  }
  const version = await run('aws', ['--version'], { env })
  const major = Number(/aws-cli\/(\d+)/.exec(version.stdout + version.stderr)?.[1])
  t.ok(major >= 1, `the AWS CLI is installed (${(version.stdout + version.stderr).trim()})`)
  // v2 reads a blob argument as base64 unless told otherwise; v1 sends it as given and knows no such option
  const binaryFormat = major >= 2 ? ['--cli-binary-format', 'raw-in-base64-out'] : []
  const out = join(dir, 'answer.json')
  const { stdout } = await run('aws', [
    'lambda', 'invoke', '--function-name', qualified, ...binaryFormat,
    '--payload', JSON.stringify({ image: { bucket: images, key: 'red.jpg' } }),
    '--endpoint-url', stack.info.endpoints.lambda, '--output', 'json', out,
  ], { env })
  const meta = JSON.parse(stdout)
  t.equal(meta.StatusCode, 200)
  t.equal(meta.ExecutedVersion, functionVersion)
  t.equal(meta.FunctionError, undefined)
  const body = JSON.parse(await readFile(out, 'utf8'))
  t.equal(body.model.weightsVersionId, release.weightsVersionId)
  t.equal(body.model.labelsVersionId, release.labelsVersionId)
  t.equal(body.predictions.length, 5, 'topK defaults to 5')
  t.equal(body.predictions[0].label, expectedTopLabel(1, 1, 'red'))
})

t.test('bad input makes the real handler throw: a function error named for it, and the next invocation works', async (t) => {
  const failed = await invoke(lambda, stack, { image: { bucket: images, key: 'notes.txt' } })
  t.equal(failed.response.StatusCode, 200, 'Lambda answers 200 for a function error')
  t.equal(failed.response.FunctionError, 'Unhandled')
  t.equal(failed.body.errorType, 'InvalidImageError')
  t.match(failed.body.errorMessage, /notes\.txt|image/i, 'the message says what was wrong')

  const missing = await invoke(lambda, stack, { image: { bucket: images, key: 'red.jpg' }, model: { weightsVersionId: 'no-such-version', labelsVersionId: 'no-such-version' } })
  t.equal(missing.response.FunctionError, 'Unhandled')
  t.equal(missing.body.errorType, 'VersionNotFoundError')

  const ok = await invoke(lambda, stack, { image: { bucket: images, key: 'red.jpg' } })
  t.equal(ok.response.FunctionError, undefined)
  t.equal(ok.body.predictions[0].label, expectedTopLabel(1, 1, 'red'))
})
