import t from 'tap'
import { UpdateAliasCommand } from '@aws-sdk/client-lambda'
import { invokeWithTestImage, lambdaAlias, releaseLabel } from './helpers/admin-api.js'
import { restartApi, startEndToEnd } from './helpers/e2e.js'

t.test('moving live behind the registry\'s back shows as drift and changes nothing; an API restart adopts it', async (t) => {
  const { stack, api, lambda } = await startEndToEnd(t)
  const alias = '/v1/models/resnet50/aliases/production'

  // publish a version for release 2, then return to release 1: both versions exist, live is on release 1's
  const promoted = await api.post(`${alias}/promote`, { release: 2 })
  t.equal(promoted.status, 200)
  const version2 = (await lambdaAlias(lambda, stack)).functionVersion
  const back = await api.post(`${alias}/rollback`, {})
  t.equal(back.status, 200)
  const version1 = (await lambdaAlias(lambda, stack)).functionVersion
  t.not(version1, version2)
  const historyBefore = (await api.get(`${alias}/history`)).body.history

  // someone moves the Lambda alias with the SDK, as the AWS console or CLI would
  await lambda.send(new UpdateAliasCommand({
    FunctionName: stack.info.function.name, Name: stack.info.function.alias, FunctionVersion: version2,
  }))
  t.equal((await invokeWithTestImage(lambda, stack)).body.predictions[0].label, releaseLabel(2), 'Lambda serves release 2 now')

  for (const attempt of [1, 2]) {
    const view = await api.get(alias)
    t.equal(view.status, 200)
    t.match(view.body, {
      release: 1,
      revision: back.body.revision,
      drift: true,
      live: { functionVersion: version2, release: 2, canary: null },
    }, `read ${attempt}: the registry says release 1, Lambda serves release 2's version`)
    t.equal(view.etag, back.etag, 'reading changed no revision')
  }
  t.same((await api.get(`${alias}/history`)).body.history, historyBefore, 'reading wrote no history')
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version2, 'reading did not move Lambda back')

  // restart the API on the same data dir, with a deployer on the same runtime (as startStack builds it)
  await stack.api.close()
  const again = await restartApi(t, stack)

  const adopted = await again.get(alias)
  t.match(adopted.body, {
    release: 2,
    revision: back.body.revision + 1,
    drift: false,
    canary: null,
    live: { functionVersion: version2, release: 2 },
  }, 'the restart adopted Lambda\'s state')
  const history = (await again.get(`${alias}/history`)).body.history
  t.equal(history.length, historyBefore.length + 1)
  t.match(history[0], { action: 'reconcile', fromRelease: 1, toRelease: 2, outcome: 'succeeded', actor: 'modelpin-api' })
  t.match(history[0].detail, new RegExp(`version ${version2}`), 'the entry says what was adopted')
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version2, 'reconcile never moves Lambda')

  // a rollback from there returns to where the registry was before the drift
  const rolled = await again.post(`${alias}/rollback`, {}, { 'if-match': adopted.etag! })
  t.equal(rolled.status, 200)
  t.equal(rolled.body.release, 1)
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, version1)
})
