import t from 'tap'
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { pino } from 'pino'
import { invokeWithTestImage, lambdaAlias, releaseLabel } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'
import { startLambdaRuntime } from '../src/local/lambda-runtime/index.js'
import { STACK_DEFAULTS } from '../src/local/stack.js'
import { DEFAULT_OUTFILE } from '../src/local/lambda-bundle.js'
import { TEST_LAMBDA_UPDATE_MS } from './helpers/lambda-runtime.js'

t.test('with the Lambda runtime stopped a promotion answers 502 naming the step and moves nothing; back up, it succeeds', async (t) => {
  const { stack, api, lambda, releases: [, release2] } = await startEndToEnd(t)
  const alias = '/v1/models/resnet50/aliases/production'

  // what the runtime was started with, to start it again the same way afterwards
  const latest = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: stack.info.function.name }))
  const port = Number(new URL(stack.info.endpoints.lambda).port)
  const before = await api.get(alias)
  t.equal(before.body.release, 1)

  await stack.runtime.close()

  const failed = await api.post(`${alias}/promote`, { release: 2, reason: 'while Lambda is down' }, { 'if-match': before.etag! })
  t.equal(failed.status, 502, JSON.stringify(failed.body))
  t.equal(failed.body.error.code, 'deploy_failed')
  t.match(failed.body.error.message, /get-function-configuration/, 'the message names the step that failed')
  t.match(failed.body.error.message, /alias production did not move/)

  const unmoved = await api.get(alias)
  t.equal(unmoved.status, 200, 'the alias still reads with Lambda down')
  t.match(unmoved.body, { release: 1, revision: before.body.revision, canary: null, live: null })
  t.type(unmoved.body.liveError, 'string', 'the read says why Lambda could not be read')
  t.equal(unmoved.etag, before.etag, 'the failed attempt did not bump the revision')
  const history = await api.get(`${alias}/history`)
  t.match(history.body.history[0], {
    action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'failed', reason: 'while Lambda is down', detail: /get-function-configuration/,
  })

  const predict = await api.post('/v1/models/resnet50/predict', { release: 2, image: { base64: 'AAAA' } })
  t.equal(predict.status, 502, 'a prediction with Lambda down is a 502 too')
  t.equal(predict.body.error.code, 'deploy_failed')
  // predict first finds (or publishes) the release's own version: reading its configuration is the step that fails
  t.match(predict.body.error.message, /get-function-configuration/)

  // the runtime back on the same port with the same function (it starts empty, as after a restart)
  const runtime = await startLambdaRuntime({
    host: STACK_DEFAULTS.host,
    port,
    logger: pino({ level: 'silent' }),
    credentials: STACK_DEFAULTS.s3Credentials,
    region: STACK_DEFAULTS.region,
    updateDelayMs: TEST_LAMBDA_UPDATE_MS,
    functions: [{
      name: stack.info.function.name,
      // the bundle the stack built (src/local/lambda-bundle.ts's default output)
      bundlePath: DEFAULT_OUTFILE,
      handler: latest.Handler ?? 'index.handler',
      environment: latest.Environment?.Variables ?? {},
      memoryMb: latest.MemorySize ?? 2048,
      timeoutSeconds: latest.Timeout ?? 30,
    }],
  })
  t.teardown(() => runtime.close())

  const retried = await api.post(`${alias}/promote`, { release: 2, reason: 'Lambda is back' }, { 'if-match': before.etag! })
  t.equal(retried.status, 200, JSON.stringify(retried.body))
  t.match(retried.body, { release: 2, revision: before.body.revision + 1 })
  const answer = await invokeWithTestImage(lambda, stack)
  t.equal(answer.body.predictions[0].label, releaseLabel(2))
  t.equal(answer.body.model.weightsVersionId, release2.weightsVersionId)
  const live = await lambdaAlias(lambda, stack)
  t.equal(answer.executedVersion, live.functionVersion)
  const view = await api.get(alias)
  t.match(view.body, { release: 2, drift: false, live: { functionVersion: live.functionVersion, release: 2, pin: { weightsVersionId: release2.weightsVersionId } } })
  const after = await api.get(`${alias}/history`)
  t.match(after.body.history.slice(0, 2), [
    { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'succeeded' },
    { action: 'promote', outcome: 'failed' },
  ])
})
