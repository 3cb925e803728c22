import { GetAliasCommand, UpdateAliasCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { deployedRelease, promote, startEndToEnd, succeeded, type ApiRelease } from './helpers/e2e.js'
import { invoke } from './helpers/local-runtime-e2e.js'
import { expectedTopLabel } from './helpers/models.js'

const INVOCATIONS = 300
const WEIGHT = 0.3

t.test('alias live on version 1 with 0.3 to version 2: the seeded router sends exactly 90 of 300 real invocations to 2, each with its own pins', async (t) => {
  const { stack, api, lambda, photos: { bucket: images } } = await startEndToEnd(t, { routerSeed: 7, photos: { 'red.jpg': 'red' } })
  const { name, deployAlias } = stack.info.model

  // The stack published release 1; promoting release 2 publishes it too, and the rollback puts `live` back on 1.
  const { functionVersion: version1 } = await deployedRelease(stack)
  const version2 = await promote(stack, 2)
  succeeded(await api.post(`/v1/models/${name}/aliases/${deployAlias}/rollback`, { reason: 'weighted alias test' }), 'the rollback')
  t.equal((await deployedRelease(stack)).functionVersion, version1)
  t.not(version2, version1)
  const releases = new Map<string, ApiRelease>([
    [version1, succeeded(await api.get(`/v1/models/${name}/releases/1`))],
    [version2, succeeded(await api.get(`/v1/models/${name}/releases/2`))],
  ])

  const { function: fn } = stack.info
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: fn.name, Name: fn.alias }))
  await lambda.send(new UpdateAliasCommand({
    FunctionName: fn.name,
    Name: fn.alias,
    FunctionVersion: version1,
    RoutingConfig: { AdditionalVersionWeights: { [version2]: WEIGHT } },
    RevisionId: alias.RevisionId,
  }))

  const counts = new Map<string, number>()
  const wrong: string[] = []
  for (let i = 0; i < INVOCATIONS; i++) {
    const { response, body } = await invoke(lambda, stack, { image: { bucket: images, key: 'red.jpg' }, topK: 1 })
    const version = response.ExecutedVersion ?? 'none'
    counts.set(version, (counts.get(version) ?? 0) + 1)
    const release = releases.get(version)
    // Collected rather than asserted one by one: 300 passing assertions would drown the report.
    if (release === undefined || body.model?.weightsVersionId !== release.weightsVersionId ||
      body.model?.labelsVersionId !== release.labelsVersionId ||
      body.predictions?.[0]?.label !== expectedTopLabel(release.number as 1 | 2, release.number as 1 | 2, 'red')) {
      wrong.push(`invocation ${i} ran version ${version} and answered ${JSON.stringify(body).slice(0, 300)}`)
    }
  }
  t.same(wrong, [], 'each version answers with the pins and labels of its own release')
  t.same(Object.fromEntries(counts), { [version1]: INVOCATIONS - INVOCATIONS * WEIGHT, [version2]: INVOCATIONS * WEIGHT })
  const share = (counts.get(version2) ?? 0) / INVOCATIONS
  t.ok(Math.abs(share - WEIGHT) <= 0.09, `the share of version 2 (${share}) is within 0.3 +- 0.09`)
})
