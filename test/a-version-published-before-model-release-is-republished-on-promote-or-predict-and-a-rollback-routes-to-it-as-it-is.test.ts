import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  GetFunctionConfigurationCommand, PublishVersionCommand, UpdateFunctionConfigurationCommand, type LambdaClient,
} from '@aws-sdk/client-lambda'
import t from 'tap'
import { pinToEnvironment, RELEASE_ENVIRONMENT } from '../src/contract/pin.js'
import { openDatabase } from '../src/registry/db.js'
import type { Stack } from '../src/local/stack.js'
import { invokeWithTestImage, lambdaAlias, publishedVersions, testImageBase64 } from './helpers/admin-api.js'
import { startEndToEnd, type SeededRelease } from './helpers/e2e.js'

/**
 * Publishes a version of the stack's function for `release` as the registry did before MODEL_RELEASE existed (its
 * pin and no release number), and records it in `deployments` as the registry would have.
 */
async function publishWithoutRelease (lambda: LambdaClient, stack: Stack, release: SeededRelease): Promise<string> {
  const fn = stack.info.function.name
  const current = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))
  const variables: Record<string, string> = { ...current.Environment?.Variables }
  delete variables[RELEASE_ENVIRONMENT]
  Object.assign(variables, pinToEnvironment({
    bucket: stack.info.buckets.models,
    weightsKey: stack.info.model.weightsKey,
    weightsVersionId: release.weightsVersionId,
    weightsSha256: release.weightsSha256,
    labelsKey: stack.info.model.labelsKey,
    labelsVersionId: release.labelsVersionId,
    labelsSha256: release.labelsSha256,
  }))
  await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Environment: { Variables: variables } }))
  for (let i = 0; (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))).LastUpdateStatus === 'InProgress'; i++) {
    if (i > 100) throw new Error('the function update did not finish')
    await sleep(100)
  }
  const published = await lambda.send(new PublishVersionCommand({ FunctionName: fn, Description: `modelpin ${stack.info.model.name} release ${release.number}` }))
  const version = published.Version!
  const { db, close } = await openDatabase(`sqlite:${join(dirname(stack.info.adminTokenFile), 'registry.db')}`)
  try {
    await db.deleteFrom('deployments').where('function_name', '=', fn).where('function_version', '=', version).execute()
    await db.insertInto('deployments')
      .values({ model: stack.info.model.name, release: release.number, function_name: fn, function_version: version, created_at: new Date().toISOString() })
      .onConflict((conflict) => conflict.columns(['model', 'release', 'function_name']).doUpdateSet({ function_version: version }))
      .execute()
  } finally {
    await close()
  }
  return version
}

t.test('a version without MODEL_RELEASE: a rollback routes to it as it is, predict, promote and canary publish the release again', async (t) => {
  const { stack, api, lambda, releases: [release1, release2] } = await startEndToEnd(t)
  const model = `/v1/models/${stack.info.model.name}`
  const production = `${model}/aliases/${stack.info.model.deployAlias}`

  const old2 = await publishWithoutRelease(lambda, stack, release2)
  const oldAnswer = await invokeWithTestImage(lambda, stack, old2)
  t.equal(oldAnswer.body.model.release, null, 'the old version names no release')
  t.equal(oldAnswer.body.model.weightsVersionId, release2.weightsVersionId)

  // a rollback routes to the recorded version as it is
  const versionsBefore = await publishedVersions(lambda, stack)
  const rolledBack = await api.post(`${production}/rollback`, { to: 2, reason: 'back to the old version of release 2' })
  t.equal(rolledBack.status, 200, JSON.stringify(rolledBack.body))
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, old2, 'Lambda\'s alias routes to the old version')
  t.same(await publishedVersions(lambda, stack), versionsBefore, 'the rollback published nothing')
  const view = await api.get(production)
  t.equal(view.body.live.release, 2, 'the old version is still release 2\'s record')
  t.equal(view.body.drift, false)

  // predicting the release production serves runs on that version, as it is
  const servedPredict = await api.post(`${model}/predict`, { release: 2, image: { base64: await testImageBase64() } })
  t.equal(servedPredict.status, 200, JSON.stringify(servedPredict.body))
  t.same(await publishedVersions(lambda, stack), versionsBefore, 'predicting the served release publishes nothing')

  // once production moves on, predicting release 2 publishes it again, with MODEL_RELEASE
  const promoted1 = await api.post(`${production}/promote`, { release: 1, reason: 'leave release 2' })
  t.equal(promoted1.status, 200, JSON.stringify(promoted1.body))
  const beforePredict = await publishedVersions(lambda, stack)
  const predicted = await api.post(`${model}/predict`, { release: 2, image: { base64: await testImageBase64() } })
  t.equal(predicted.status, 200, JSON.stringify(predicted.body))
  t.equal(predicted.body.model.release, 2, 'the answer names release 2')
  t.equal(predicted.body.model.weightsSha256, release2.weightsSha256)
  const afterPredict = await publishedVersions(lambda, stack)
  t.equal(afterPredict.length, beforePredict.length + 1, 'predict published release 2 again')
  const new2 = afterPredict.find((v) => !beforePredict.includes(v))!
  t.not(new2, old2)

  // a promote of a release whose recorded version lacks MODEL_RELEASE publishes it again and routes there
  const old1 = await publishWithoutRelease(lambda, stack, release1)
  const promoted2 = await api.post(`${production}/promote`, { release: 2, reason: 'release 2 again' })
  t.equal(promoted2.status, 200, JSON.stringify(promoted2.body))
  t.equal((await lambdaAlias(lambda, stack)).functionVersion, new2, 'release 2 reuses the version predict published')
  const beforePromote = await publishedVersions(lambda, stack)
  const promoted = await api.post(`${production}/promote`, { release: 1, reason: 'release 1 again' })
  t.equal(promoted.status, 200, JSON.stringify(promoted.body))
  const routed = (await lambdaAlias(lambda, stack)).functionVersion
  t.not(routed, old1, 'the promotion did not route to the old version')
  t.same(await publishedVersions(lambda, stack), [...beforePromote, routed], 'it published release 1 again')
  const live = await invokeWithTestImage(lambda, stack)
  t.match(live.body.model, { release: 1, weightsVersionId: release1.weightsVersionId, weightsSha256: release1.weightsSha256 })
  const after = await api.get(production)
  t.equal(after.body.live.release, 1)
  t.equal(after.body.drift, false)

  // a canary of a release whose recorded version lacks MODEL_RELEASE publishes it again; production's version stays
  const oldCanary = await publishWithoutRelease(lambda, stack, release2)
  const beforeCanary = await publishedVersions(lambda, stack)
  const canary = await api.post(`${production}/canary`, { release: 2, weight: 0.1, reason: 'try release 2 again' })
  t.equal(canary.status, 200, JSON.stringify(canary.body))
  const split = await lambdaAlias(lambda, stack)
  t.equal(split.functionVersion, routed, 'production keeps its version')
  const canaryVersion = Object.keys(split.weights)[0]!
  t.not(canaryVersion, oldCanary, 'the canary does not route to the old version')
  t.same(await publishedVersions(lambda, stack), [...beforeCanary, canaryVersion], 'it published release 2 again')
  const canaryAnswer = await invokeWithTestImage(lambda, stack, canaryVersion)
  t.equal(canaryAnswer.body.model.release, 2)
})
