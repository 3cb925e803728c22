import { readFile } from 'node:fs/promises'
import { PassThrough } from 'node:stream'
import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import * as errors from '../src/registry/errors.js'
import { ERROR_CODES, type ErrorCode } from '../src/api/errors.js'
import { NAME_PATTERN } from '../src/api/schemas/common.js'
import { CloudWatchStepMetrics, createCloudWatchClient } from '../src/deploy/cloudwatch-metrics.js'
import { LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { isValidName } from '../src/registry/registry.js'
import { build, type ApiAnswer } from './helpers/app.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, lambdaClient, startTestRuntime, waitForRuntimeEvent } from './helpers/lambda-runtime.js'
import { waitFor } from './helpers/move-world.js'

/** The README's error table: code -> status. */
async function readmeErrorTable (): Promise<Record<string, number>> {
  const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8')
  const section = readme.split(/^### Errors$/m)[1]?.split(/^#/m)[0] ?? ''
  return Object.fromEntries([...section.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map(([, code, status]) => [code, Number(status)]))
}

t.test('every error code is answered by a real request with its status, and the README\'s table says the same', async (t) => {
  // Functions that refuse every image, invoked by the gate and by predict. `hold.jpg` keeps an invocation (and so the
  // move that made it) running until the function's 3 s timeout. They refuse warm-ups too: only `unwarmable`'s model
  // warms up (and fails); the others have `prewarm` 0.
  const refuser = { bundlePath: handlerPath('refuses-every-image.mjs'), handler: 'index.handler', environment: {}, timeoutSeconds: 3 }
  const { runtime } = await startTestRuntime(t, {
    functions: ['refuser', 'gated', 'holder', 'unsure', 'unwarmable', 'policed', 'roller'].map((name) => ({ name, ...refuser })),
    cloudwatchPort: 0,
  })
  // every Lambda call through a fault proxy; only function `unsure`'s get faults (for outcome_unknown)
  const proxy = await startFaultProxy(t, runtime.url)
  const lambda = lambdaClient(proxy.url)
  t.teardown(() => lambda.destroy())
  const cloudwatch = createCloudWatchClient({ endpoint: runtime.cloudwatchUrl, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  t.teardown(() => cloudwatch.destroy())
  const app = await build(t, {
    deployer: new LambdaDeployer({ lambda }),
    metrics: new CloudWatchStepMetrics(cloudwatch, 60),
    config: { authFailuresPerMinute: 3, maxUploadBytes: 1024 * 1024, bodyTimeoutMs: 1000 },
  })
  const { api, bucket } = app

  const [release] = await app.modelWithReleases('resnet', 2)
  await api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 1 } })
  const viewer = (await api('POST', '/v1/tokens', { body: { name: 'vera', role: 'viewer' } })).body.token as string
  const cold = { prewarm: 0 }
  await app.modelWithReleases('refuser', 1, { functionName: 'refuser', ...cold })
  t.equal((await api('POST', '/v1/models/refuser/aliases/production/promote', { body: { release: 1 } })).status, 200, 'no gate: promoted')
  await app.modelWithReleases('gated', 1, { functionName: 'gated', gateImages: [{ bucket, key: 'any.jpg' }], ...cold })
  await app.modelWithReleases('holder', 1, { functionName: 'holder', gateImages: [{ bucket, key: 'hold.jpg' }], ...cold })
  await app.modelWithReleases('ghost', 1, { functionName: 'no-such-function' })
  await app.modelWithReleases('unsure', 1, { functionName: 'unsure', ...cold })
  await app.modelWithReleases('unwarmable', 1, { functionName: 'unwarmable' })
  // rollouts of `roller` never reach a verdict in this test (steps of ten minutes): only their answers count
  await app.modelWithReleases('roller', 2, { functionName: 'roller', ...cold })
  t.equal((await api('POST', '/v1/models/roller/aliases/production/promote', { body: { release: 1 } })).status, 200)
  const rollouts = '/v1/models/roller/aliases/production/rollouts'
  const rollout = { release: 2, steps: [0.1], stepSeconds: 600 }
  t.equal((await app.createModel('lost', { bucket: 'no-such-bucket-modelpin' })).status, 201)
  // a policy that no evaluation of a function refusing every image can pass (nothing is answered: agreement is null)
  await app.modelWithReleases('policed', 3, { functionName: 'policed', ...cold })
  t.equal((await api('POST', '/v1/models/policed/aliases/production/promote', { body: { release: 1 } })).status, 200, 'the first promotion is exempt')
  t.equal((await api('PATCH', '/v1/models/policed', { body: { promotionPolicy: { minAgreement: 0.9 } } })).status, 200)
  await app.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inputs/one.jpg', Body: 'not an image either' }))
  const evaluation = await api('POST', '/v1/models/policed/evaluations', { body: { candidate: 3, inputs: { bucket, prefix: 'inputs/' } } })
  t.equal(evaluation.status, 202, evaluation.text)
  const evaluated = await waitFor(async () => {
    const read = await api('GET', `/v1/models/policed/evaluations/${evaluation.body.id as string}`)
    return read.body.status === 'running' ? undefined : read.body
  })
  t.match(evaluated, { status: 'succeeded', errors: { candidate: 1, baseline: 1 }, agreement: null, verdict: { passed: false } })
  const image = { base64: Buffer.from('not an image').toString('base64') }
  const json = { 'content-type': 'application/json' }

  // Each code with the status the contract gives it and a request that gets it; `internal` closes the database and
  // `shutting_down` drains the app, so they come last.
  const cases: Array<[ErrorCode, number, () => Promise<ApiAnswer>]> = [
    ['invalid_input', 400, () => api('GET', '/v1/models/resnet/releases/latest')],
    ['invalid_json', 400, () => api('POST', '/v1/models', { body: '{"name": "x",', headers: json })],
    ['empty_body', 400, () => api('PUT', '/v1/models/resnet/artifacts/weights')],
    ['no_canary', 400, () => api('DELETE', '/v1/models/resnet/aliases/production/canary')],
    ['unauthorized', 401, () => api('GET', '/v1/models', { token: null })],
    ['token_expired', 401, async () => {
      const minted = (await api('POST', '/v1/tokens', { body: { name: 'brief', role: 'viewer', expiresInDays: 1 } })).body
      await app.app.database.db.updateTable('api_tokens').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', minted.id).execute()
      return await api('GET', '/v1/whoami', { token: minted.token })
    }],
    ['token_not_found', 404, () => api('DELETE', '/v1/tokens/tok_nope')],
    ['token_name_taken', 409, () => api('POST', '/v1/tokens', { body: { name: 'vera', role: 'viewer' } })],
    ['bootstrap_token', 409, async () => {
      const admin = (await api('GET', '/v1/tokens')).body.tokens.find((token: { name: string }) => token.name === 'admin')
      return await api('DELETE', `/v1/tokens/${admin.id as string}`)
    }],
    ['payload_too_large', 413, () => app.upload('resnet', 'weights', Buffer.alloc(1024 * 1024 + 1))],
    ['body_timeout', 408, async () => {
      // one chunk, then nothing: the stream stays open past MODELPIN_BODY_TIMEOUT_MS
      const stalled = new PassThrough()
      stalled.write(Buffer.alloc(100))
      const response = await app.app.inject({
        method: 'PUT',
        url: '/v1/models/resnet/artifacts/weights',
        payload: stalled,
        headers: { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/octet-stream' },
      })
      stalled.destroy()
      return { status: response.statusCode, headers: response.headers, body: JSON.parse(response.body), text: response.body }
    }],
    ['rate_limited', 429, async () => {
      // two failures so far (unauthorized, token_expired); the limit is 3
      t.equal((await api('GET', '/v1/models', { token: 'wrong' })).status, 401)
      const limited = await api('GET', '/v1/models', { token: 'wrong' })
      t.match(limited.headers['retry-after'], /^\d+$/, 'rate_limited: Retry-After')
      return limited
    }],
    ['forbidden', 403, () => api('POST', '/v1/models/resnet/aliases/production/promote', { token: viewer, body: { release: 2 } })],
    ['not_found', 404, () => api('GET', '/v1/nothing')],
    ['model_not_found', 404, () => api('GET', '/v1/models/nope')],
    ['release_not_found', 404, () => api('GET', '/v1/models/resnet/releases/99')],
    ['alias_not_found', 404, () => api('GET', '/v1/models/resnet/aliases/nope')],
    ['model_exists', 409, () => app.createModel('resnet')],
    ['function_alias_taken', 409, () => app.createModel('copycat', { functionName: 'refuser' })],
    ['alias_busy', 409, async () => {
      const gateRunning = waitForRuntimeEvent(runtime, 'environment-started', (e) => e.functionName === 'holder')
      const held = api('POST', '/v1/models/holder/aliases/production/promote', { body: { release: 1 } })
      await gateRunning
      const busy = await api('POST', '/v1/models/holder/aliases/production/promote', { body: { release: 1 } })
      t.match(await held, { status: 422, body: { error: { code: 'gate_rejected', message: /Sandbox\.Timedout/ } } }, 'the held move ends')
      return busy
    }],
    ['canary_in_progress', 409, async () => {
      await api('POST', '/v1/models/roller/aliases/production/canary', { body: { release: 2, weight: 0.1 } })
      const refused = await api('POST', rollouts, { body: rollout })
      await api('DELETE', '/v1/models/roller/aliases/production/canary')
      return refused
    }],
    ['rollout_in_progress', 409, async () => {
      t.equal((await api('POST', rollouts, { body: rollout })).status, 202, 'a rollout runs')
      return await api('POST', '/v1/models/roller/aliases/production/promote', { body: { release: 2 } })
    }],
    ['rollout_finished', 409, async () => {
      const [running] = (await api('GET', rollouts)).body.rollouts
      t.equal((await api('DELETE', `${rollouts}/${running.id as string}`)).status, 200, 'cancelled')
      return await api('DELETE', `${rollouts}/${running.id as string}`)
    }],
    ['rollout_not_found', 404, () => api('GET', `${rollouts}/no-such-rollout`)],
    ['revision_mismatch', 412, () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 2 }, headers: { 'if-match': '"7"' } })],
    ['unsupported_media_type', 415, () => api('POST', '/v1/models', { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })],
    ['unknown_release', 422, () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 99 } })],
    ['version_not_found', 422, () => api('POST', '/v1/models/resnet/releases', { body: { weightsVersionId: 'no-such-version', labelsVersionId: release!.labelsVersionId } })],
    ['not_deployed', 422, () => api('POST', '/v1/models/resnet/predict', { body: { image } })],
    ['gate_rejected', 422, () => api('POST', '/v1/models/gated/aliases/production/promote', { body: { release: 1 } })],
    ['warmup_failed', 422, () => api('POST', '/v1/models/unwarmable/aliases/production/promote', { body: { release: 1 } })],
    ['bucket_not_found', 422, () => api('GET', '/v1/models/lost/artifacts/weights/versions')],
    ['evaluation_not_found', 404, () => api('GET', '/v1/models/policed/evaluations/no-such-evaluation')],
    ['no_inputs', 422, () => api('POST', '/v1/models/policed/evaluations', { body: { candidate: 2, inputs: { bucket, prefix: 'nothing-here/' } } })],
    ['evaluation_required', 422, () => api('POST', '/v1/models/policed/aliases/production/promote', { body: { release: 2 } })],
    ['policy_violated', 422, () => api('POST', '/v1/models/policed/aliases/production/promote', { body: { release: 3 } })],
    ['prediction_failed', 422, () => api('POST', '/v1/models/refuser/predict', { body: { release: 1, image } })],
    ['deploy_failed', 502, () => api('POST', '/v1/models/ghost/aliases/production/promote', { body: { release: 1 } })],
    ['outcome_unknown', 503, async () => {
      // the alias is created but its reply is lost, and reading Lambda back fails too
      const aliases = /^\/2015-03-31\/functions\/unsure\/aliases/
      const create = proxy.add({ method: 'POST', path: aliases, action: { kind: 'drop-reply' }, times: 1 })
      create.matched().then(() => proxy.add({ method: 'GET', path: aliases, action: { kind: 'answer', status: 500, body: { Message: 'injected' } } }), () => {})
      const answer = await api('POST', '/v1/models/unsure/aliases/production/promote', { body: { release: 1 } })
      proxy.clear()
      t.match(answer.headers['retry-after'], /^\d+$/, 'outcome_unknown: Retry-After')
      return answer
    }],
    ['internal', 500, async () => {
      // a real failure, not a fake: the database is gone under the running app
      await app.app.database.close()
      return await api('GET', '/v1/models/resnet')
    }],
    ['shutting_down', 503, async () => {
      // a stopping API's drain: nothing is in flight, so it ends at once, and every request after it is refused
      t.equal(await app.app.drain(), 0, 'nothing was in flight')
      return await api('GET', '/v1/models')
    }],
  ]

  for (const [code, status, send] of cases) {
    const answer = await send()
    t.equal(answer.status, status, `${code}: status`)
    t.same(Object.keys(answer.body ?? {}), ['error'], `${code}: the error shape`)
    t.equal(answer.body?.error?.code, code, `${code}: code (${answer.text})`)
    t.equal(ERROR_CODES[code].status, status, `${code}: ERROR_CODES has the status it answered`)
    t.ok(ERROR_CODES[code].meaning.length > 10, `${code}: ERROR_CODES says what it means`)
  }
  const answered = Object.fromEntries(cases.map(([code, status]) => [code, status]))
  t.same(Object.keys(answered).sort(), Object.keys(ERROR_CODES).sort(), 'every code in ERROR_CODES was answered above')
  t.same(await readmeErrorTable(), answered, 'the README\'s error table lists exactly these codes with these statuses')
})

t.test('every domain error class of the registry has a code in ERROR_CODES', async (t) => {
  type DomainErrorClass = new (...args: string[]) => errors.RegistryError
  const classes = (Object.values(errors) as unknown[]).filter((value): value is DomainErrorClass =>
    typeof value === 'function' && value.prototype instanceof errors.RegistryError)
  t.ok(classes.length >= 14, `${classes.length} domain error classes`)
  for (const ErrorClass of classes) {
    const error = new ErrorClass('step', 'message', 'detail')
    t.ok(Object.hasOwn(ERROR_CODES, error.code), `${ErrorClass.name} (${error.code}) is in ERROR_CODES`)
  }
})

t.test('the API\'s name pattern accepts exactly the names the registry accepts', async (t) => {
  const pattern = new RegExp(NAME_PATTERN, 'u')
  const samples = ['resnet', 'resnet-50', 'a', 'a.b', 'a_b', '0', 'x'.repeat(63), 'x'.repeat(64), '', 'a/b', '..', 'a..b',
    '.a', '-a', '_a', 'A', 'ResNet', 'a b', 'a\u0000', 'a\u0001b', 'a\nb', 'a\u007f', 'é', 'a%2fb', 'a.', 'a-']
  for (const name of samples) t.equal(pattern.test(name), isValidName(name), JSON.stringify(name))
})
