import { GetAliasCommand } from '@aws-sdk/client-lambda'
import t from 'tap'
import { LambdaDeployer } from '../src/deploy/lambda-deployer.js'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import { Registry } from '../src/registry/registry.js'
import { handlerPath, startTestRuntime } from './helpers/lambda-runtime.js'
import { DATABASE_KINDS, openTestDatabase, registerModelWithReleases } from './helpers/registry.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a rollback without \`to\` looks back past canary entries, toggles, and while a canary runs removes it`, async (t) => {
    const { lambda } = await startTestRuntime(t, {
      functions: [{ name: 'classifier', bundlePath: handlerPath('echo.mjs'), handler: 'index.handler', environment: {}, memoryMb: 256, timeoutSeconds: 5 }],
    })
    const s3 = testS3Client()
    t.teardown(() => s3.destroy())
    const bucket = await createTestBucket(t, s3)
    const database = await openTestDatabase(t, kind)
    const registry = new Registry({ db: database.db, store: new S3ArtifactStore({ s3 }), deployer: new LambdaDeployer({ lambda }) })
    await registerModelWithReleases(registry, bucket, 'resnet', 3, { functionName: 'classifier' })

    /** What the registry says and what Lambda's alias routes, which must agree. */
    const serving = async () => {
      const view = await registry.getAlias('resnet', 'production')
      t.equal(view.drift, false, 'Lambda serves what the registry says')
      const routed = await lambda.send(new GetAliasCommand({ FunctionName: 'classifier', Name: 'live' }))
      return {
        release: view.release,
        canary: view.canary,
        liveRelease: view.live?.release,
        weights: routed.RoutingConfig?.AdditionalVersionWeights ?? {},
      }
    }

    await registry.promote('resnet', 'production', { release: 1 }, 'alice')
    await registry.promote('resnet', 'production', { release: 2 }, 'alice')
    await registry.startCanary('resnet', 'production', { release: 3, weight: 0.5 }, 'bob')
    await registry.abortCanary('resnet', 'production', {}, 'bob')
    await registry.rollback('resnet', 'production', {}, 'carol')
    t.same(await serving(), { release: 1, canary: null, liveRelease: 1, weights: {} }, 'canary start and abort do not count: back to 1')
    await registry.rollback('resnet', 'production', {}, 'carol')
    t.same(await serving(), { release: 2, canary: null, liveRelease: 2, weights: {} }, 'a second rollback toggles')

    const canary = await registry.startCanary('resnet', 'production', { release: 3, weight: 0.25 }, 'bob')
    t.match(canary, { release: 2, canary: { release: 3, weight: 0.25 } })
    const canaryVersion = Object.keys((await serving()).weights)
    t.equal(canaryVersion.length, 1, 'Lambda runs the canary')
    const removed = await registry.rollback('resnet', 'production', { reason: 'canary errors' }, 'dave')
    t.match(removed, { release: 2, canary: null, revision: canary.revision + 1 })
    t.same(await serving(), { release: 2, canary: null, liveRelease: 2, weights: {} }, 'the canary is gone from Lambda too')

    await registry.startCanary('resnet', 'production', { release: 3, weight: 0.1 }, 'bob')
    await registry.promoteCanary('resnet', 'production', {}, 'bob')
    await registry.rollback('resnet', 'production', {}, 'carol')
    t.same(await serving(), { release: 2, canary: null, liveRelease: 2, weights: {} }, 'a canary promote counts')

    const entries = (await registry.history('resnet', 'production'))
      .map((e) => [e.action, e.fromRelease, e.toRelease, e.actor, e.outcome])
    t.same(entries.slice(0, 5), [
      ['rollback', 3, 2, 'carol', 'succeeded'],
      ['canary-promote', 2, 3, 'bob', 'succeeded'],
      ['canary-start', 2, 3, 'bob', 'succeeded'],
      ['rollback', 3, 2, 'dave', 'succeeded'],
      ['canary-start', 2, 3, 'bob', 'succeeded'],
    ], 'removing the canary is one rollback entry from its release to the alias\'s, with the caller as actor')
    t.equal(entries.length, 11, 'one entry per move')
    t.match((await registry.history('resnet', 'production'))[3], { reason: 'canary errors', detail: /canary removed: weight 0\.25 on release 3/ })
  })
}
