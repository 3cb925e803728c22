import { SelectQueryNode, TableNode, type Kysely, type KyselyPlugin } from 'kysely'
import t from 'tap'
import { samePin, type ModelPin } from '../src/contract/pin.js'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import { createContext, type RegistryContext } from '../src/registry/context.js'
import type { RegistrySchema } from '../src/registry/db.js'
import {
  DeployStepError, type AliasRouting, type CanaryRoute, type Deployer, type DeployTarget, type InvokeResult, type ReleaseBuild,
} from '../src/registry/deployer.js'
import { DeployFailedError, GateRejectedError, NoCanaryError, WarmupFailedError } from '../src/registry/errors.js'
import type { HistoryAction, Model } from '../src/registry/model.js'
import { getModel } from '../src/registry/models.js'
import { planCanaryPromote, planCanaryStart, planPromote, planRollback, type MovePlan, type ClaimedAlias } from '../src/registry/move-plan.js'
import { executeMove, type MoveRequest } from '../src/registry/move-executor.js'
import { Registry } from '../src/registry/registry.js'
import { getRelease } from '../src/registry/releases.js'
import { DATABASE_KINDS, openTestDatabase, type DatabaseKind } from './helpers/registry.js'
import { testS3Client } from './helpers/s3.js'

/**
 * The move executor against an in-memory Deployer, over real SQLite and PostgreSQL: this file tests the executor
 * (which steps run, in which order, what the alias and its history say after each outcome), not Lambda, which the
 * promotion tests drive through the local runtime.
 */

/** An in-memory Lambda: numbered versions, one alias, invocations answered from a list of bad images. */
class FakeDeployer implements Deployer {
  /** every call, in order, as one line each */
  readonly calls: string[] = []
  readonly versions = new Map<string, ReleaseBuild>()
  routing: { functionVersion: string, canary: CanaryRoute | null } | null = null
  /** the step that fails as Lambda failing would (a DeployStepError naming it) */
  failing: string | null = null
  /** gate image keys the function answers with an error */
  readonly badImages = new Set<string>()
  /** versions whose warm-up answers with a function error (their model cannot load) */
  readonly unloadable = new Set<string>()

  async publish (_target: DeployTarget, build: ReleaseBuild, knownVersion?: string): Promise<{ functionVersion: string, published: boolean }> {
    this.#fail('publish-version')
    const known = knownVersion === undefined ? undefined : this.versions.get(knownVersion)
    if (knownVersion !== undefined && known !== undefined && samePin(known.pin, build.pin)) {
      this.calls.push(`publish release ${build.release}: reuse ${knownVersion}`)
      return { functionVersion: knownVersion, published: false }
    }
    const version = String(this.versions.size + 1)
    this.versions.set(version, build)
    this.calls.push(`publish release ${build.release}: version ${version}`)
    return { functionVersion: version, published: true }
  }

  async route (_target: DeployTarget, functionVersion: string, canary?: CanaryRoute): Promise<void> {
    this.#fail('update-alias')
    this.calls.push(`route ${functionVersion}${canary === undefined ? '' : ` + ${canary.functionVersion}@${canary.weight}`}`)
    this.routing = { functionVersion, canary: canary ?? null }
  }

  /** fencing and revisions are tested against the local runtime; here the alias never changes behind the mover */
  async aliasRevision (): Promise<string | null> {
    return this.routing === null ? null : 'revision'
  }

  async fence (): Promise<void> {}

  async readAlias (): Promise<AliasRouting | null> {
    return this.routing
  }

  async versionPin (_functionName: string, version: string): Promise<ModelPin | undefined> {
    return this.versions.get(version)?.pin
  }

  async invoke (_target: DeployTarget, payload: unknown, qualifier?: string): Promise<InvokeResult> {
    this.#fail('invoke')
    if ((payload as { warmup?: boolean }).warmup === true) {
      this.calls.push(`warmup ${qualifier ?? 'alias'}`)
      if (this.unloadable.has(qualifier ?? 'alias')) {
        return { functionError: 'Unhandled', payload: { errorType: 'ModelLoadError', errorMessage: 'labels do not match the model' } }
      }
      return { payload: { warm: true } }
    }
    const event = payload as { image: { key: string }, model: { weightsVersionId: string }, topK: number }
    this.calls.push(`invoke ${qualifier ?? 'alias'} ${event.image.key} with weights ${event.model.weightsVersionId}, topK ${event.topK}`)
    if (this.badImages.has(event.image.key)) {
      return { functionError: 'Unhandled', payload: { errorType: 'InvalidImageError', errorMessage: 'not an image' } }
    }
    return { payload: { predictions: [] } }
  }

  #fail (step: string): void {
    if (this.failing === step) throw new DeployStepError(step, `${step} failed: Lambda is unreachable`)
  }
}

/** Counts the queries that read the releases table. */
function countingReleaseReads (db: Kysely<RegistrySchema>): { db: Kysely<RegistrySchema>, reads: () => number } {
  let reads = 0
  const plugin: KyselyPlugin = {
    transformQuery ({ node }) {
      if (SelectQueryNode.is(node) && node.from?.froms.some((from) => TableNode.is(from) && from.table.identifier.name === 'releases')) reads++
      return node
    },
    async transformResult ({ result }) {
      return result
    },
  }
  return { db: db.withPlugin(plugin), reads: () => reads }
}

const NOW = new Date('2026-01-02T03:04:05.000Z')
const MODEL = 'resnet'

/**
 * A model served by a function with one gate image, and three releases (release n pins weights `w<n>`). Warm-up is
 * off unless asked for (`prewarm`), so the tests of the other steps see only theirs.
 */
async function seed (db: Kysely<RegistrySchema>, prewarm = 0): Promise<void> {
  const at = NOW.toISOString()
  await db.insertInto('models').values({
    name: MODEL,
    bucket: 'models',
    weights_key: 'resnet/model.onnx',
    labels_key: 'resnet/labels.txt',
    function_name: 'modelpin-inference',
    function_alias: 'live',
    deploy_alias: 'production',
    gate_images: JSON.stringify([{ bucket: 'images', key: 'cat.jpg' }]),
    prewarm,
    created_at: at,
    updated_at: at,
  }).execute()
  for (const n of [1, 2, 3]) {
    await db.insertInto('releases').values({
      model: MODEL,
      number: n,
      weights_version_id: `w${n}`,
      labels_version_id: 'l1',
      weights_sha256: String(n).repeat(64),
      labels_sha256: 'a'.repeat(64),
      weights_size: 100 + n,
      labels_size: 10,
      notes: null,
      created_at: at,
      created_by: 'test',
    }).execute()
  }
}

interface Testbed {
  db: Kysely<RegistrySchema>
  ctx: RegistryContext
  deployer: FakeDeployer
  model: Model
  reads: () => number
  /** a move of `alias` (default the deploy alias) by `plan` */
  move: (action: HistoryAction, plan: (alias: ClaimedAlias) => MovePlan, extra?: Partial<MoveRequest>) => ReturnType<typeof executeMove>
  aliasRow: (alias?: string) => Promise<{ release: number | null, revision: number, function_version: string | null, canary_function_version: string | null, lock_token: string | null }>
}

async function testbed (t: { teardown: (fn: () => unknown) => void }, kind: DatabaseKind, prewarm = 0): Promise<Testbed> {
  const database = await openTestDatabase(t, kind)
  await seed(database.db, prewarm)
  const s3 = testS3Client() // the executor never reads S3; the context needs a store
  t.teardown(() => s3.destroy())
  const counted = countingReleaseReads(database.db)
  const deployer = new FakeDeployer()
  const ctx = createContext({ db: counted.db, store: new S3ArtifactStore({ s3 }), deployer }, () => NOW)
  const model = await getModel(ctx, MODEL)
  return {
    db: database.db,
    ctx,
    deployer,
    model,
    reads: counted.reads,
    move: async (action, plan, extra = {}) =>
      await executeMove(ctx, { model, alias: 'production', action, actor: 'tester', reason: `a ${action}`, create: true, plan, ...extra }),
    aliasRow: async (alias = 'production') => await database.db.selectFrom('aliases')
      .select(['release', 'revision', 'function_version', 'canary_function_version', 'lock_token'])
      .where('model', '=', MODEL).where('name', '=', alias).executeTakeFirstOrThrow(),
  }
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a promote publishes the release, gates its version, routes the alias, then commits one succeeded entry`, async (t) => {
    const { ctx, deployer, move, aliasRow, db } = await testbed(t, kind)
    const moved = await move('promote', (alias) => planPromote(alias, 1))
    t.same(deployer.calls, ['publish release 1: version 1', 'invoke 1 cat.jpg with weights w1, topK 1', 'route 1'], 'publish, gate, route, in that order')
    t.match(moved, { model: MODEL, alias: 'production', release: 1, revision: 1, canary: null })
    t.match(await aliasRow(), { release: 1, revision: 1, function_version: '1', lock_token: null }, 'the alias records its version; the lock is free')
    const history = await db.selectFrom('alias_history').selectAll().execute()
    t.match(history, [{
      at: NOW.toISOString(),
      action: 'promote',
      actor: 'tester',
      reason: 'a promote',
      from_release: null,
      to_release: 1,
      outcome: 'succeeded',
      detail: 'Lambda modelpin-inference:live -> version 1',
    }], 'one entry, stamped by the context\'s clock')
    t.same(await db.selectFrom('deployments').select(['release', 'function_version']).execute(), [{ release: 1, function_version: '1' }])
    t.same(deployer.routing, { functionVersion: '1', canary: null })
    t.ok(ctx.deployer === deployer)
  })

  t.test(`${kind}: a rollback returns to the version published before, publishing nothing new`, async (t) => {
    const { deployer, move, aliasRow } = await testbed(t, kind)
    await move('promote', (alias) => planPromote(alias, 1))
    await move('promote', (alias) => planPromote(alias, 2))
    deployer.calls.length = 0
    await move('rollback', (alias) => planRollback(alias, 1))
    t.same(deployer.calls, ['publish release 1: reuse 1', 'invoke 1 cat.jpg with weights w1, topK 1', 'route 1'])
    t.equal(deployer.versions.size, 2, 'two releases, two versions')
    t.match(await aliasRow(), { release: 1, revision: 3, function_version: '1' })
  })

  t.test(`${kind}: a canary gates the candidate on its own version and routes its weight; promoting it routes everything there`, async (t) => {
    const { deployer, move, aliasRow } = await testbed(t, kind)
    await move('promote', (alias) => planPromote(alias, 1))
    deployer.calls.length = 0
    await move('canary-start', (alias) => planCanaryStart(alias, 2, 0.3))
    t.same(deployer.calls, [
      'publish release 1: reuse 1',
      'publish release 2: version 2',
      'invoke 2 cat.jpg with weights w2, topK 1',
      'route 1 + 2@0.3',
    ])
    t.match(await aliasRow(), { release: 1, revision: 2, function_version: '1', canary_function_version: '2' })
    deployer.calls.length = 0
    await move('canary-promote', planCanaryPromote)
    t.same(deployer.calls, ['publish release 2: reuse 2', 'route 2'], 'no gate: the candidate passed it when the canary started')
    t.match(await aliasRow(), { release: 2, revision: 3, function_version: '2', canary_function_version: null })
  })

  t.test(`${kind}: when Lambda fails at a step, the alias stays, one failed entry names the step and the lock is free`, async (t) => {
    const { deployer, move, aliasRow, db } = await testbed(t, kind)
    await move('promote', (alias) => planPromote(alias, 1))
    deployer.failing = 'update-alias'
    const failed = await move('promote', (alias) => planPromote(alias, 2)).catch((error: unknown) => error)
    t.ok(failed instanceof DeployFailedError && failed.step === 'update-alias', 'DeployFailedError naming the step')
    t.match(await aliasRow(), { release: 1, revision: 1, function_version: '1', lock_token: null })
    const last = await db.selectFrom('alias_history').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
    t.match(last, { action: 'promote', outcome: 'failed', from_release: 1, to_release: 2, detail: /^update-alias: / })
    deployer.failing = null
    t.match(await move('promote', (alias) => planPromote(alias, 2)), { release: 2, revision: 2 }, 'the next move goes through')
  })

  t.test(`${kind}: a gate image the candidate fails rejects the move before Lambda routes anything`, async (t) => {
    const { deployer, move, aliasRow, db } = await testbed(t, kind)
    await move('promote', (alias) => planPromote(alias, 1))
    deployer.badImages.add('cat.jpg')
    deployer.calls.length = 0
    await t.rejects(move('promote', (alias) => planPromote(alias, 2)), GateRejectedError)
    t.same(deployer.calls, ['publish release 2: version 2', 'invoke 2 cat.jpg with weights w2, topK 1'], 'no route')
    t.same(deployer.routing, { functionVersion: '1', canary: null })
    t.match(await aliasRow(), { release: 1, revision: 1, lock_token: null })
    const last = await db.selectFrom('alias_history').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow()
    t.match(last, { outcome: 'rejected', to_release: 2, detail: /InvalidImageError: not an image/ })
  })

  t.test(`${kind}: a plan that refuses leaves no entry, no Deployer call and a free lock`, async (t) => {
    const { deployer, move, aliasRow, db } = await testbed(t, kind)
    await move('promote', (alias) => planPromote(alias, 1))
    deployer.calls.length = 0
    await t.rejects(move('canary-promote', planCanaryPromote), NoCanaryError)
    t.same(deployer.calls, [])
    t.equal((await db.selectFrom('alias_history').selectAll().execute()).length, 1)
    t.match(await aliasRow(), { revision: 1, lock_token: null })
  })

  t.test(`${kind}: a registry-only alias moves without the Deployer`, async (t) => {
    const { deployer, move, aliasRow } = await testbed(t, kind)
    t.match(await move('promote', (alias) => planPromote(alias, 3), { alias: 'staging' }), { alias: 'staging', release: 3, revision: 1 })
    t.same(deployer.calls, [])
    t.match(await aliasRow('staging'), { release: 3, function_version: null })
  })

  t.test(`${kind}: each release is read once per move, and not at all when the caller passes it`, async (t) => {
    const { ctx, move, reads } = await testbed(t, kind)
    const release1 = await getRelease(ctx, MODEL, 1)
    let before = reads()
    await move('promote', (alias) => planPromote(alias, 1), { releases: [release1] })
    t.equal(reads() - before, 0, 'the release the caller read')
    before = reads()
    await move('canary-start', (alias) => planCanaryStart(alias, 2, 0.5))
    t.equal(reads() - before, 2, 'the served release and the candidate, each once (published, gated, routed)')

    const registry = new Registry({ db: ctx.db, store: ctx.store, deployer: ctx.deployer })
    before = reads()
    await registry.promote(MODEL, 'production', { release: 3 }, 'tester')
    t.equal(reads() - before, 1, 'a promote through the registry reads its release once')
    before = reads()
    await registry.rollback(MODEL, 'production', { to: 1 }, 'tester')
    t.equal(reads() - before, 1, 'so does a rollback to a named release')
  })
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a move warms \`prewarm\` environments of its target version after publishing it and before the gate and the route`, async (t) => {
    const { deployer, move } = await testbed(t, kind, 2)
    await move('promote', (alias) => planPromote(alias, 1))
    t.same(deployer.calls, [
      'publish release 1: version 1', 'warmup 1', 'warmup 1', 'invoke 1 cat.jpg with weights w1, topK 1', 'route 1',
    ], 'publish, warm-up, gate, route')
    deployer.calls.length = 0
    await move('canary-start', (alias) => planCanaryStart(alias, 2, 0.5))
    t.same(deployer.calls.filter((call) => call.startsWith('warmup')), ['warmup 2', 'warmup 2'], 'a canary warms the candidate\'s version')
    deployer.calls.length = 0
    await move('canary-promote', (alias) => planCanaryPromote(alias))
    t.same(deployer.calls, ['publish release 2: reuse 2', 'route 2'], 'promoting the canary warms nothing: its version serves already (DESIGN.md, Rollouts)')
    deployer.calls.length = 0
    await move('rollback', (alias) => planRollback(alias, 1))
    t.same(deployer.calls.filter((call) => call.startsWith('warmup')), ['warmup 1', 'warmup 1'], 'a rollback to another version warms it')
    deployer.calls.length = 0
    await move('promote', (alias) => planPromote(alias, 1))
    t.notOk(deployer.calls.some((call) => call.startsWith('warmup')), 'a move to the version that serves warms nothing')
  })

  t.test(`${kind}: a warm-up that fails rejects the move with warmup_failed; Lambda failing in it fails the move`, async (t) => {
    const { deployer, move, aliasRow, db } = await testbed(t, kind, 1)
    await move('promote', (alias) => planPromote(alias, 1))
    deployer.unloadable.add('2')
    deployer.calls.length = 0
    await t.rejects(move('promote', (alias) => planPromote(alias, 2)), WarmupFailedError)
    t.same(deployer.calls, ['publish release 2: version 2', 'warmup 2'], 'no gate, no route')
    t.match(await aliasRow(), { release: 1, revision: 1, function_version: '1', lock_token: null }, 'the alias stays')
    t.same(deployer.routing, { functionVersion: '1', canary: null }, 'Lambda serves what it served')
    deployer.unloadable.clear()
    deployer.failing = 'invoke'
    await t.rejects(move('promote', (alias) => planPromote(alias, 2)), DeployFailedError)
    const outcomes = await db.selectFrom('alias_history').select(['to_release', 'outcome']).orderBy('id').execute()
    t.same(outcomes, [{ to_release: 1, outcome: 'succeeded' }, { to_release: 2, outcome: 'rejected' }, { to_release: 2, outcome: 'failed' }])
  })
}
