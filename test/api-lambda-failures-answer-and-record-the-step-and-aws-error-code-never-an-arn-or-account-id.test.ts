import t, { type Test } from 'tap'
import { awsErrorCode, redactAwsIdentifiers } from '../src/aws/aws-error-code.js'
import { createLambdaClient, LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { build, type ApiAnswer } from './helpers/app.js'
import { startFaultProxy } from './helpers/fault-proxy.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'

const ALIAS = /^\/2015-03-31\/functions\/fn\/aliases\/live$/
const LEAK = /arn:|\b\d{12}\b/

function noLeak (t: Test, what: string, text: string): void {
  t.notMatch(text, LEAK, `${what}: no ARN and no account ID`)
}

t.test('502 answers, alias reads and history details name the step and AWS\'s error code, never an ARN or account ID', async (t) => {
  const { runtime } = await startTestRuntime(t, {
    functions: [{ name: 'fn', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
  })
  const proxy = await startFaultProxy(t, runtime.url)
  const lambda = createLambdaClient({ endpoint: proxy.url, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } })
  t.teardown(() => lambda.destroy())
  const app = await build(t, { deployer: new LambdaDeployer({ lambda }) })
  const answers: Array<[string, ApiAnswer]> = []

  // the local runtime answers as AWS does: "Function not found: arn:aws:lambda:us-east-1:000000000000:function:..."
  await app.modelWithReleases('ghost', 1, { functionName: 'no-such-function', prewarm: 0 })
  const ghost = await app.api('POST', '/v1/models/ghost/aliases/production/promote', { body: { release: 1 } })
  t.equal(ghost.status, 502)
  t.match(ghost.body.error, { code: 'deploy_failed', message: /failed: ResourceNotFoundException/ })
  answers.push(['a missing function', ghost])

  await app.modelWithReleases('m', 2, { functionName: 'fn', functionAlias: 'live', prewarm: 0 })
  t.equal((await app.api('POST', '/v1/models/m/aliases/production/promote', { body: { release: 1 } })).status, 200)
  const refusal = proxy.add({
    method: 'PUT',
    path: ALIAS,
    action: {
      kind: 'answer',
      status: 400,
      body: { Type: 'User', Message: 'Alias live of arn:aws:lambda:us-east-1:123456789012:function:fn cannot point there (account 123456789012)' },
      headers: { 'x-amzn-errortype': 'InvalidParameterValueException' },
    },
  })
  const refused = await app.api('POST', '/v1/models/m/aliases/production/promote', { body: { release: 2, reason: 'refused' } })
  refusal.remove()
  t.equal(refused.status, 502)
  t.match(refused.body.error, { code: 'deploy_failed', message: /update-alias failed: InvalidParameterValueException/ })
  answers.push(['Lambda refusing the alias update', refused])

  const unreadable = proxy.add({
    method: 'GET',
    path: ALIAS,
    action: { kind: 'answer', status: 403, body: { Message: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized' }, headers: { 'x-amzn-errortype': 'AccessDeniedException' } },
  })
  const read = await app.api('GET', '/v1/models/m/aliases/production')
  unreadable.remove()
  t.equal(read.status, 200)
  t.match(read.body.liveError, /AccessDeniedException/)
  answers.push(['an alias read Lambda refuses', read])

  for (const [what, answer] of answers) noLeak(t, what, answer.text)
  for (const model of ['ghost', 'm']) {
    const history = await app.api('GET', `/v1/models/${model}/aliases/production/history`)
    const failed = history.body.history.filter((entry: { outcome: string }) => entry.outcome === 'failed')
    t.ok(failed.length >= 1, `${model}: a failed entry`)
    for (const entry of failed) t.match(entry.detail, /^[a-z-]+: [a-z-]+ failed: .*(ResourceNotFoundException|InvalidParameterValueException)/)
    noLeak(t, `${model}'s history`, history.text)
  }
})

t.test('an AWS error is told by its code; a stray ARN or account ID in other text is cut out', async (t) => {
  t.equal(awsErrorCode(Object.assign(new Error('Function not found: arn:aws:lambda:x:123456789012:function:f'), { name: 'ResourceNotFoundException' })), 'ResourceNotFoundException')
  t.equal(awsErrorCode(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), 'ECONNREFUSED')
  t.equal(awsErrorCode(new Error('anything')), 'UnknownError')
  t.equal(awsErrorCode('a string'), 'UnknownError')
  t.equal(redactAwsIdentifiers('Function not found: arn:aws:lambda:us-east-1:123456789012:function:fn:live.'), 'Function not found: live.')
  t.equal(redactAwsIdentifiers('role arn:aws:iam::123456789012:role/x-local failed'), 'role x-local failed')
  t.equal(redactAwsIdentifiers('account 123456789012 and version 7'), 'account <account> and version 7')
  t.equal(redactAwsIdentifiers('a sha256 0123456789abcdef0123 and 1234567890123 stay'), 'a sha256 0123456789abcdef0123 and 1234567890123 stay')
})
