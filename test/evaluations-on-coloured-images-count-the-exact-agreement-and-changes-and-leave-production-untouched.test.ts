import t from 'tap'
import { invokeWithTestImage, lambdaAlias } from './helpers/admin-api.js'
import { evaluateUntilDone, startEndToEnd, succeeded } from './helpers/e2e.js'
import { textFile } from './helpers/images.js'
import { expectedTopLabel, type Colour } from './helpers/models.js'

/** Mostly red, then green and blue photos, and one file that is not an image. */
const COLOURS: Record<Colour, number> = { red: 5, green: 3, blue: 2 }
const photos: Record<string, Colour | Buffer> = { 'inputs/shopping-list.txt': textFile() }
for (const [colour, count] of Object.entries(COLOURS) as Array<[Colour, number]>) {
  for (let i = 0; i < count; i++) photos[`inputs/${colour}-${i}.jpg`] = colour
}
const IMAGES = Object.values(COLOURS).reduce((a, b) => a + b, 0)

t.test('evaluations through the local stack on the demo model\'s colour head', async (t) => {
  const { stack, api, lambda, photos: { bucket }, releases: [release1, release2] } = await startEndToEnd(t, { photos })
  const model = stack.info.model.name
  const inputs = { bucket, prefix: 'inputs/' }

  await t.test('release 2 against release 1 (the default baseline): no top-1 agrees, each colour changes as the versions say', async (t) => {
    const evaluation = await evaluateUntilDone(api, model, { candidate: 2, inputs, reason: 'before promoting release 2' })
    t.match(evaluation, {
      status: 'succeeded',
      failure: null,
      candidate: 2,
      baseline: 1,
      reason: 'before promoting release 2',
      inputs: { bucket, prefix: 'inputs/', count: IMAGES + 1 },
      completed: IMAGES + 1,
      errors: { candidate: 1, baseline: 1 },
      verdict: null,
    })
    t.equal(evaluation.agreement.top1, 0, 'every colour moves to another class with weights 2')
    t.ok(evaluation.agreement.top5Overlap >= 0 && evaluation.agreement.top5Overlap <= 1)
    t.same(evaluation.changes, (['red', 'green', 'blue'] as const).map((colour) => ({
      from: expectedTopLabel(1, 1, colour), to: expectedTopLabel(2, 2, colour), count: COLOURS[colour],
    })), 'most frequent first')
    t.same(evaluation.changes[0], { from: 'tomato', to: 'Cucumis sativus', count: 5 })
    t.ok(evaluation.latencyMs.candidate.p95 >= evaluation.latencyMs.candidate.p50, 'warm latencies of the candidate')
    t.ok(evaluation.latencyMs.baseline.p50 > 0)
    t.comment(`${IMAGES + 1} inputs evaluated between ${evaluation.startedAt as string} and ${evaluation.finishedAt as string}`)
  })

  // release 3: release 1's weights with release 2's labels
  const release3 = succeeded(await api.post(`/v1/models/${model}/releases`, {
    weightsVersionId: release1.weightsVersionId, labelsVersionId: release2.labelsVersionId, notes: 'weights 1, labels 2',
  }))

  await t.test('two releases with the same weights agree fully whatever their labels', async (t) => {
    const evaluation = await evaluateUntilDone(api, model, { candidate: release3.number, baseline: 1, inputs: { ...inputs, limit: 6 } })
    t.match(evaluation, { status: 'succeeded', completed: 6, inputs: { count: 6 }, agreement: { top1: 1, top5Overlap: 1 }, changes: [] })
  })

  await t.test('an evaluation of two releases production does not serve leaves its alias, revision and warm environment as they were', async (t) => {
    const aliasPath = `/v1/models/${model}/aliases/${stack.info.model.deployAlias}`
    const before = succeeded(await api.get(aliasPath))
    const lambdaBefore = await lambdaAlias(lambda, stack)
    const warm = await invokeWithTestImage(lambda, stack)
    t.equal(warm.functionError, undefined)
    const evaluation = await evaluateUntilDone(api, model, { candidate: release3.number, baseline: 2, inputs })
    t.equal(evaluation.status, 'succeeded')
    t.match(succeeded(await api.get(aliasPath)), { release: 1, revision: before.revision, canary: null, drift: false })
    t.same(await lambdaAlias(lambda, stack), lambdaBefore, 'Lambda\'s alias did not move (same RevisionId)')
    const after = await invokeWithTestImage(lambda, stack)
    t.equal(after.body.environment.id, warm.body.environment.id, 'production\'s warm environment answers')
    t.equal(after.body.cache.loads, warm.body.cache.loads, 'its cache loaded no other release')
    t.equal(after.body.cache.bytes, warm.body.cache.bytes)
    t.equal(after.body.model.release, 1)
  })

  await t.test('the list shows them newest first', async (t) => {
    const { evaluations } = succeeded(await api.get(`/v1/models/${model}/evaluations`))
    t.same(evaluations.map((e: { candidate: number, baseline: number }) => [e.candidate, e.baseline]), [[release3.number, 2], [release3.number, 1], [2, 1]])
  })
})
