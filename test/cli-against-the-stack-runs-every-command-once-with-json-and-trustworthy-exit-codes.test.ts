import t from 'tap'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { EXIT_CODES, main } from '../src/cli/main.js'
import { captureIo, emptyDirectory } from './helpers/cli.js'
import { FIXTURES_DIR } from '../scripts/generate-fixtures.js'
import { startEndToEnd } from './helpers/e2e.js'
import { invokeWithTestImage, lambdaAlias, publishedVersions } from './helpers/admin-api.js'
import { expectedLabel, sha256, tinyWeights } from './helpers/models.js'
import { textFile } from './helpers/images.js'

// The fixture is the red photo stored as CMYK: red is what the demo models' colour head keys on.
const RED_FIXTURE = path.join(FIXTURES_DIR, 'red-cmyk.jpg')

t.test('each CLI command once against the local stack, its --json output parsed and its exit code checked', async (t) => {
  const { stack, lambda, releases: [release1, release2] } = await startEndToEnd(t)
  const files = await emptyDirectory(t)

  async function cli (argv: string[], token = stack.token) {
    const captured = await captureIo(t)
    const code = await main([...argv, '--api', stack.info.endpoints.api, '--token', token], captured.io)
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  }
  async function cliJson (argv: string[]): Promise<any> {
    const result = await cli([...argv, '--json'])
    t.equal(result.code, EXIT_CODES.ok, `${argv.join(' ')}: ${result.stderr}`)
    return JSON.parse(result.stdout)
  }

  // versions: the two weights versions the stack uploaded, newest first
  const versions = await cliJson(['versions', 'resnet50', 'weights'])
  t.same(versions.versions.map((v: any) => v.versionId), [release2.weightsVersionId, release1.weightsVersionId])
  t.equal(versions.nextCursor, null)

  // upload a third weights version (the bytes of weights 1 again), then release it with labels 2
  const weightsFile = path.join(files, 'model.onnx')
  await writeFile(weightsFile, tinyWeights(1))
  const uploaded = await cliJson(['upload', 'resnet50', 'weights', weightsFile])
  t.match(uploaded, { size: tinyWeights(1).length, sha256: sha256(tinyWeights(1)) })
  t.not(uploaded.versionId, release1.weightsVersionId, 'a new S3 version')
  const release3 = await cliJson(['release', 'resnet50', '--weights', uploaded.versionId, '--labels', release2.labelsVersionId, '--notes', 'weights 1 + labels 2'])
  t.match(release3, { number: 3, weightsVersionId: uploaded.versionId, labelsVersionId: release2.labelsVersionId, weightsSha256: uploaded.sha256 })
  const releases = await cliJson(['releases', 'resnet50'])
  t.same(releases.releases.map((r: any) => r.number), [1, 2, 3])

  // promote with If-Match, then the alias as read: Lambda serves release 3
  const before = await cliJson(['alias', 'resnet50', 'production'])
  const promoted = await cliJson(['promote', 'resnet50', 'production', '3', '--if-match', `"${before.revision}"`, '--reason', 'cli'])
  t.match(promoted, { release: 3, revision: before.revision + 1 })
  const stale = await cli(['promote', 'resnet50', 'production', '2', '--if-match', String(before.revision)])
  t.equal(stale.code, EXIT_CODES.conflict, 'a stale --if-match exits 4')
  t.match(stale.stderr, /^error: revision_mismatch: /)
  const alias = await cliJson(['alias', 'resnet50', 'production'])
  t.match(alias, { release: 3, drift: false, live: { release: 3, pin: { weightsVersionId: uploaded.versionId, labelsVersionId: release2.labelsVersionId } } })
  t.equal(alias.live.functionVersion, (await lambdaAlias(lambda, stack)).functionVersion)
  const aliasTable = await cli(['alias', 'resnet50', 'production'])
  t.equal(aliasTable.code, EXIT_CODES.ok)
  t.match(aliasTable.stdout, /^drift: +no$/m)
  t.equal((await invokeWithTestImage(lambda, stack)).body.predictions[0].label, expectedLabel(1, 2, 'red'))

  // predict: a local file with the deploy alias's release, then pinned to release 1; a text file is refused
  const byAlias = await cliJson(['predict', 'resnet50', '--file', RED_FIXTURE, '--top-k', '2'])
  t.equal(byAlias.predictions.length, 2)
  t.equal(byAlias.predictions[0].label, expectedLabel(1, 2, 'red'))
  t.equal(byAlias.model.weightsVersionId, uploaded.versionId)
  const pinned = await cliJson(['predict', 'resnet50', '--file', RED_FIXTURE, '--release', '1'])
  t.equal(pinned.predictions[0].label, expectedLabel(1, 1, 'red'))
  t.match(pinned.model, { weightsVersionId: release1.weightsVersionId, labelsVersionId: release1.labelsVersionId })
  const textPath = path.join(files, 'list.txt')
  await writeFile(textPath, textFile())
  const notAnImage = await cli(['predict', 'resnet50', '--file', textPath, '--release', '1'])
  t.equal(notAnImage.code, EXIT_CODES.rejected, 'the function\'s refusal exits 5')
  t.match(notAnImage.stderr, /^error: prediction_failed: .*InvalidImageError/)

  // rollback: back to release 1's version with no new version
  const versionCount = (await publishedVersions(lambda, stack)).length
  const rolledBack = await cliJson(['rollback', 'resnet50', 'production', '--reason', 'cli rollback'])
  t.equal(rolledBack.release, 1)
  t.equal((await publishedVersions(lambda, stack)).length, versionCount, 'no version published')

  // canary: start, promote; start, abort; each leaves Lambda's alias as the registry says
  const started = await cliJson(['canary', 'resnet50', 'production', 'start', '2', '--weight', '0.5'])
  t.match(started, { release: 1, canary: { release: 2, weight: 0.5 } })
  t.equal(Object.values((await lambdaAlias(lambda, stack)).weights)[0], 0.5)
  const canaryPromoted = await cliJson(['canary', 'resnet50', 'production', 'promote', '--if-match', String(started.revision)])
  t.match(canaryPromoted, { release: 2, canary: null })
  t.same((await lambdaAlias(lambda, stack)).weights, {})
  const restarted = await cliJson(['canary', 'resnet50', 'production', 'start', '3', '--weight', '10%'])
  t.match(restarted, { release: 2, canary: { release: 3, weight: 0.1 } })
  const aborted = await cliJson(['canary', 'resnet50', 'production', 'abort', '--reason', 'enough'])
  t.match(aborted, { release: 2, canary: null })
  const afterAbort = await cliJson(['alias', 'resnet50', 'production'])
  t.match(afterAbort, { release: 2, canary: null, drift: false, live: { release: 2, canary: null } })
  const noCanary = await cli(['canary', 'resnet50', 'production', 'abort'])
  t.equal(noCanary.code, EXIT_CODES.rejected)
  t.match(noCanary.stderr, /^error: no_canary: /)

  // history: every move above, newest first
  const history = await cliJson(['history', 'resnet50', 'production', '--limit', '6'])
  t.same(history.history.map((h: any) => [h.action, h.fromRelease, h.toRelease, h.outcome]), [
    ['canary-abort', 3, 2, 'succeeded'],
    ['canary-start', 2, 3, 'succeeded'],
    ['canary-promote', 1, 2, 'succeeded'],
    ['canary-start', 1, 2, 'succeeded'],
    ['rollback', 3, 1, 'succeeded'],
    ['promote', 1, 3, 'succeeded'],
  ])

  // rollout: start (its first step runs at once), status, cancel; a second cancel is a conflict
  const rollout = await cliJson(['rollout', 'resnet50', 'production', 'start', '3', '--steps', '10%,50%', '--step', '10m', '--max-error-rate', '0.05'])
  t.match(rollout, { release: 3, stableRelease: 2, status: 'running', steps: [0.1, 0.5], stepSeconds: 600, criteria: { maxErrorRate: 0.05, minInvocations: 20 } })
  t.match(await cliJson(['rollout', 'resnet50', 'production', 'status']), { id: rollout.id, status: 'running', observations: [] })
  t.match(await cliJson(['rollout', 'resnet50', 'production', 'cancel']), { id: rollout.id, status: 'cancelled' })
  t.equal((await cli(['rollout', 'resnet50', 'production', 'cancel', rollout.id])).code, EXIT_CODES.conflict, 'a finished rollout: 409 exits 4')

  // exit codes of failures
  t.equal((await cli(['promote', 'resnet50', 'production', '9'])).code, EXIT_CODES.rejected, 'an unknown release exits 5')
  t.equal((await cli(['alias', 'no-such-model', 'production'])).code, EXIT_CODES.notFound, 'an unknown model exits 3')
  t.equal((await cli(['releases', 'resnet50'], 'not-a-real-token')).code, EXIT_CODES.auth, 'an unknown token exits 6')
  await stack.runtime.close()
  const lambdaDown = await cli(['promote', 'resnet50', 'production', '1'])
  t.equal(lambdaDown.code, EXIT_CODES.unavailable, 'Lambda failing (502) exits 7')
  t.match(lambdaDown.stderr, /^error: deploy_failed: /)
})
