import {
  GetAliasCommand, GetFunctionConfigurationCommand, UpdateFunctionConfigurationCommand, type LambdaClient,
} from '@aws-sdk/client-lambda'
import t, { type Test } from 'tap'
import { pinToEnvironment } from '../src/contract/pin.js'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { build, type TestApp } from './helpers/app.js'
import { startFaultProxy, type FaultAction } from './helpers/fault-proxy.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

const CONFIGURATION = /^\/2015-03-31\/functions\/fn\/configuration$/
const VERSIONS = /^\/2015-03-31\/functions\/fn\/versions$/
const ALIAS = /^\/2015-03-31\/functions\/fn\/aliases\/live$/
const PATH = '/v1/models/m/aliases/production'

/** Lambda's refusals as the runtime (and AWS) send them: the error type header and Lambda's body. */
function refusal (status: number, errorType: string, message: string): FaultAction {
  return { kind: 'answer', status, body: { Type: 'User', message }, headers: { 'x-amzn-errortype': errorType } }
}
const CONFLICT = refusal(409, 'ResourceConflictException', 'The operation cannot be performed at this time. An update is in progress for resource: fn')
const THROTTLED = refusal(429, 'TooManyRequestsException', 'Rate Exceeded.')
const STALE = refusal(412, 'PreconditionFailedException', 'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id')

/**
 * The deployer against the real local runtime (updates InProgress for 300 ms) while something else writes to the
 * function or Lambda refuses calls for now: a second writer between its steps, a 409 during an update, throttling.
 * Every move ends either moved with the release's pin (200, `succeeded`, Lambda serving it) or in a clean
 * `502 deploy_failed` with history `failed` and nothing moved. The deployer's client is production's (SDK retries
 * included), through a fault-injecting proxy; the second writer goes to the runtime directly.
 */
t.test('moves under contention end in a correct move or a clean 502', async (t) => {
  const { runtime, lambda: direct } = await startTestRuntime(t, {
    functions: [{ name: 'fn', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: { KEEP: 'kept' } }],
    updateDelayMs: 300,
  })
  const proxy = await startFaultProxy(t, runtime.url)
  const lambda = createLambdaClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  t.teardown(() => lambda.destroy())
  const app = await build(t, { database: 'sqlite', deployer: new LambdaDeployer({ lambda }) })
  await app.modelWithReleases('m', 6, { functionName: 'fn', functionAlias: 'live' })
  t.equal((await app.api('POST', `${PATH}/promote`, { body: { release: 1 } })).status, 200)

  /** A second writer: sets `variables` over the function's current ones, as another tool (or modelpin) would. */
  const secondWriter = async (variables: Record<string, string>): Promise<void> => {
    const current = await direct.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn' }))
    await direct.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'fn', Environment: { Variables: { ...current.Environment?.Variables, ...variables } } }))
  }

  t.test('a second writer updates the function while the deployer\'s update is on its way: it reads again and publishes the pin', async (t) => {
    let open!: () => void
    const held = proxy.add({ method: 'PUT', path: CONFIGURATION, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { open = resolve }), times: 1 })
    const answer = app.api('POST', `${PATH}/promote`, { body: { release: 2, reason: 'writer before the update' } })
    await held.matched()
    await secondWriter({ OTHER_WRITER: 'first' })
    open()
    const moved = await answer
    t.equal(moved.status, 200, moved.text)
    t.match((await history(app))[0], { action: 'promote', toRelease: 2, outcome: 'succeeded' })
    const served = await agree(t, app, direct, 2)
    t.match(served.Environment?.Variables, { KEEP: 'kept', OTHER_WRITER: 'first' }, 'the other writer\'s variable is kept beside the pin')
    t.ok(proxy.count('PUT', CONFIGURATION) >= 2, 'the update was made again on what the other writer left')
  })

  t.test('a second writer rewrites the pin between the deployer\'s update and its publish: it reads again and publishes its own pin', async (t) => {
    const publishes = proxy.count('POST', VERSIONS)
    let open!: () => void
    const held = proxy.add({ method: 'POST', path: VERSIONS, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { open = resolve }), times: 1 })
    const answer = app.api('POST', `${PATH}/promote`, { body: { release: 3, reason: 'writer before the publish' } })
    await held.matched()
    // another modelpin (or a person) writes a different pin into $LATEST meanwhile
    await secondWriter(pinToEnvironment({ bucket: 'elsewhere', weightsKey: 'w', weightsVersionId: 'other', labelsKey: 'l', labelsVersionId: 'other' }))
    open()
    const moved = await answer
    t.equal(moved.status, 200, moved.text)
    t.match((await history(app))[0], { action: 'promote', toRelease: 3, outcome: 'succeeded' })
    await agree(t, app, direct, 3)
    t.equal(proxy.count('POST', VERSIONS) - publishes, 2, 'the stale publish was refused, and a second round published')
  })

  t.test('a writer racing every round: three rounds, then a clean 502 deploy_failed, failed, nothing moved', async (t) => {
    const rule = proxy.add({ method: 'POST', path: VERSIONS, action: STALE })
    t.teardown(rule.remove)
    const answer = await app.api('POST', `${PATH}/promote`, { body: { release: 4, reason: 'endless race' } })
    rule.remove()
    t.match(answer, { status: 502, body: { error: { code: 'deploy_failed', message: /publish-version/ } } })
    t.match((await history(app))[0], { action: 'promote', toRelease: 4, outcome: 'failed', reason: 'endless race', detail: /publish-version.*PreconditionFailed/ })
    t.equal(rule.hits, 3, 'one publish per round, three rounds')
    await agree(t, app, direct, 3)
  })

  t.test('a 409 to the update (an update in progress) is retried once the update is done, and the move succeeds', async (t) => {
    const rule = proxy.add({ method: 'PUT', path: CONFIGURATION, action: CONFLICT, times: 1 })
    const moved = await app.api('POST', `${PATH}/promote`, { body: { release: 4, reason: 'conflict' } })
    t.equal(moved.status, 200, moved.text)
    t.equal(rule.hits, 1)
    t.match((await history(app))[0], { action: 'promote', toRelease: 4, outcome: 'succeeded' })
    await agree(t, app, direct, 4)
  })

  t.test('throttled publish and alias calls are retried (the SDK\'s retry counted in the same budget), and the move succeeds', async (t) => {
    // two 429s: the SDK retries the first itself, the deployer the second
    const publishes = proxy.count('POST', VERSIONS)
    const throttledPublish = proxy.add({ method: 'POST', path: VERSIONS, action: THROTTLED, times: 2 })
    const throttledAlias = proxy.add({ method: 'PUT', path: ALIAS, action: THROTTLED, times: 1 })
    const moved = await app.api('POST', `${PATH}/promote`, { body: { release: 5, reason: 'throttled' } })
    t.equal(moved.status, 200, moved.text)
    t.equal(throttledPublish.hits, 2)
    t.equal(throttledAlias.hits, 1)
    t.equal(proxy.count('POST', VERSIONS) - publishes, 3, 'two refused publishes and the one that went through')
    t.match((await history(app))[0], { action: 'promote', toRelease: 5, outcome: 'succeeded' })
    await agree(t, app, direct, 5)
  })

  t.test('throttled on every try: at most five calls in all, then a clean 502 deploy_failed, failed, nothing moved', async (t) => {
    const rule = proxy.add({ method: 'PUT', path: ALIAS, action: THROTTLED })
    t.teardown(rule.remove)
    const answer = await app.api('POST', `${PATH}/promote`, { body: { release: 4, reason: 'throttled for good' } })
    rule.remove()
    t.match(answer, { status: 502, body: { error: { code: 'deploy_failed', message: /update-alias/ } } })
    t.match((await history(app))[0], { action: 'promote', toRelease: 4, outcome: 'failed', reason: 'throttled for good' })
    // the SDK retries each 429 once itself: two calls a try, and a third try could make six
    t.equal(rule.hits, 4, 'the SDK\'s retries and the deployer\'s share one budget of five calls')
    await agree(t, app, direct, 5)
  })
})

async function history (app: TestApp): Promise<any[]> {
  return (await app.api('GET', `${PATH}/history`)).body.history
}

/**
 * The registry's alias, what it reads from Lambda, and Lambda itself (read around the proxy) all name `release`;
 * answers the configuration of the version Lambda serves.
 */
async function agree (t: Test, app: TestApp, direct: LambdaClient, release: number) {
  const alias = (await app.api('GET', PATH)).body
  const lambda = await direct.send(new GetAliasCommand({ FunctionName: 'fn', Name: 'live' }))
  t.match(alias, { release, drift: false, live: { release, functionVersion: lambda.FunctionVersion } }, `registry and Lambda both serve release ${release}`)
  return await direct.send(new GetFunctionConfigurationCommand({ FunctionName: 'fn', Qualifier: lambda.FunctionVersion }))
}
