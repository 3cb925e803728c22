import t from 'tap'
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda'
import { invokeWithTestImage, lambdaAlias, publishedVersions, TEST_COLOUR } from './helpers/admin-api.js'
import { startEndToEnd } from './helpers/e2e.js'
import { expectedLabel, type DemoVersion } from './helpers/models.js'

t.test('ten concurrent promotions with the same If-Match: one 200, nine 412, and Lambda serves the winner\'s release', async (t) => {
  const { stack, api, lambda, releases: [release1, release2] } = await startEndToEnd(t)
  const model = '/v1/models/resnet50'
  const alias = `${model}/aliases/production`

  // two more releases that mix the versions, so each candidate answers with its own label
  const mixes: Record<number, [DemoVersion, DemoVersion]> = { 2: [2, 2] }
  for (const [w, l] of [[1, 2], [2, 1]] as Array<[DemoVersion, DemoVersion]>) {
    const created = await api.post(`${model}/releases`, {
      weightsVersionId: [release1, release2][w - 1]!.weightsVersionId,
      labelsVersionId: [release1, release2][l - 1]!.labelsVersionId,
      notes: `weights ${w} + labels ${l}`,
    })
    t.equal(created.status, 201)
    mixes[created.body.number] = [w, l]
  }
  t.same(Object.keys(mixes).map(Number), [2, 3, 4])
  const candidates = Object.keys(mixes).map(Number)

  const read = await api.get(alias)
  const versionsBefore = await publishedVersions(lambda, stack)
  const historyBefore = (await api.get(`${alias}/history`)).body.history.length
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    api.post(`${alias}/promote`, { release: candidates[i % candidates.length], reason: `racer ${i}` }, { 'if-match': read.etag! })))

  const statuses = answers.map((a) => a.status).sort()
  t.same(statuses, [200, 412, 412, 412, 412, 412, 412, 412, 412, 412])
  for (const lost of answers.filter((a) => a.status === 412)) t.equal(lost.body.error.code, 'revision_mismatch')
  const winner = answers.find((a) => a.status === 200)!.body
  t.equal(winner.revision, read.body.revision + 1)
  const [w, l] = mixes[winner.release]!

  const live = await lambdaAlias(lambda, stack)
  const view = await api.get(alias)
  t.match(view.body, { release: winner.release, revision: winner.revision, drift: false, canary: null })
  t.equal(view.body.live.functionVersion, live.functionVersion, 'GetAlias serves the version the registry recorded')
  t.equal(view.body.live.release, winner.release, 'and that version was published for the winner\'s release')
  t.same(live.weights, {})
  const configuration = await lambda.send(new GetFunctionConfigurationCommand({
    FunctionName: stack.info.function.name, Qualifier: live.functionVersion,
  }))
  const releaseRead = await api.get(`${model}/releases/${winner.release}`)
  t.match(configuration.Environment?.Variables, {
    MODEL_WEIGHTS_VERSION_ID: releaseRead.body.weightsVersionId,
    MODEL_LABELS_VERSION_ID: releaseRead.body.labelsVersionId,
  })
  t.equal((await publishedVersions(lambda, stack)).length, versionsBefore.length + 1, 'only the winner published a version')

  const answer = await invokeWithTestImage(lambda, stack)
  t.equal(answer.body.predictions[0].label, expectedLabel(w, l, TEST_COLOUR), 'live answers with the winner\'s release')
  t.equal(answer.body.model.weightsVersionId, releaseRead.body.weightsVersionId)
  t.equal(answer.body.model.labelsVersionId, releaseRead.body.labelsVersionId)

  const history = (await api.get(`${alias}/history`)).body.history
  t.equal(history.length, historyBefore + 1, 'one history entry: the losers never moved anything')
  t.match(history[0], { action: 'promote', toRelease: winner.release, outcome: 'succeeded' })
})
