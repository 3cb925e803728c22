import t from 'tap'
import type { ModelPin } from '../src/contract/pin.js'
import { DeployStepError, type AliasRouting, type Deployer, type DeployTarget } from '../src/registry/deployer.js'
import { LiveCache, type LambdaReadOperation } from '../src/registry/live-cache.js'

/**
 * The cache's rules over a deployer that only answers reads (each held until released, so concurrent readers
 * really overlap) and a clock the test moves; the same rules against the local runtime and both databases are in
 * test/alias-reads-share-one-lambda-read-and-moves-or-newer-revisions-read-lambda-again.test.ts.
 */
const TARGET: DeployTarget = { functionName: 'fn', functionAlias: 'live' }
const PIN = (n: number): ModelPin => ({ bucket: 'b', weightsKey: 'w', weightsVersionId: `w${n}`, labelsKey: 'l', labelsVersionId: `l${n}` })

class ReadOnlyDeployer implements Pick<Deployer, 'readAlias' | 'versionPin' | 'aliasRevision' | 'fence'> {
  routing: AliasRouting | null = { functionVersion: '1', canary: null, revisionId: 'r1' }
  readonly calls: string[] = []
  failing = false

  async readAlias (): Promise<AliasRouting | null> {
    this.calls.push('GetAlias')
    await new Promise((resolve) => setImmediate(resolve))
    if (this.failing) throw new DeployStepError('get-alias', 'Lambda is unreachable', { effectUnknown: true })
    return this.routing === null ? null : { ...this.routing }
  }

  async versionPin (_functionName: string, version: string): Promise<ModelPin | undefined> {
    this.calls.push(`GetFunctionConfiguration ${version}`)
    await new Promise((resolve) => setImmediate(resolve))
    return version === 'pinless' ? undefined : PIN(Number(version))
  }

  async aliasRevision (): Promise<string | null> {
    this.calls.push('GetAlias')
    return this.routing?.revisionId ?? null
  }

  async fence (): Promise<void> {
    this.calls.push('GetAlias', 'UpdateAlias')
    if (this.routing !== null) this.routing = { ...this.routing, revisionId: `${this.routing.revisionId ?? ''}+` }
  }
}

function world (ttlMs = 2000): { lambda: ReadOnlyDeployer, deployer: Deployer, cache: LiveCache, counted: LambdaReadOperation[], clock: { ms: number } } {
  const lambda = new ReadOnlyDeployer()
  const clock = { ms: 0 }
  const counted: LambdaReadOperation[] = []
  const cache = new LiveCache({ ttlMs, now: () => clock.ms, onCall: (operation) => { counted.push(operation) } })
  return { lambda, deployer: lambda as unknown as Deployer, cache, counted, clock }
}

t.test('concurrent readers share one read, and readers within the TTL ask Lambda nothing', async (t) => {
  const { lambda, deployer, cache, counted, clock } = world()
  const views = await Promise.all(Array.from({ length: 50 }, async () => await cache.read(deployer, TARGET, 1)))
  t.ok(views.every((view) => view.functionVersion === '1' && view.pin?.weightsVersionId === 'w1' && view.revisionId === 'r1'))
  t.same(lambda.calls, ['GetAlias', 'GetFunctionConfiguration 1'])
  clock.ms = 1999
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.length, 2, 'still within the TTL')
  clock.ms = 2000
  lambda.routing = { functionVersion: '2', canary: { functionVersion: '1', weight: 0.25 }, revisionId: 'r2' }
  const after = await cache.read(deployer, TARGET, 1)
  t.match(after, { functionVersion: '2', pin: { weightsVersionId: 'w2' }, canary: { functionVersion: '1', weight: 0.25, pin: { weightsVersionId: 'w1' } } })
  t.same(lambda.calls.slice(2), ['GetAlias', 'GetFunctionConfiguration 2'], 'once the TTL is over: one GetAlias, and version 1\'s configuration is not read again')
  t.same(counted, lambda.calls.map((call) => call.split(' ')[0]), 'every call is counted, by operation')
})

t.test('a reader that saw a newer registry revision reads again; an older one takes the cached read', async (t) => {
  const { lambda, deployer, cache } = world()
  await cache.read(deployer, TARGET, 3)
  await cache.read(deployer, TARGET, 2)
  t.equal(lambda.calls.filter((call) => call === 'GetAlias').length, 1)
  lambda.routing = { functionVersion: '2', canary: null, revisionId: 'r2' }
  t.equal((await cache.read(deployer, TARGET, 4)).functionVersion, '2')
  t.equal((await cache.read(deployer, TARGET, 4)).functionVersion, '2')
  t.equal(lambda.calls.filter((call) => call === 'GetAlias').length, 2, 'one more read for revision 4, shared afterwards')
})

t.test('a move\'s reads go to Lambda and what they learn or change replaces the cached read', async (t) => {
  const { lambda, deployer, cache } = world()
  await cache.read(deployer, TARGET, 1)
  lambda.routing = { functionVersion: '2', canary: null, revisionId: 'r2' }
  t.equal((await cache.refresh(deployer, TARGET)).functionVersion, '2', 'refresh reads Lambda within the TTL')
  t.equal((await cache.read(deployer, TARGET, 1)).functionVersion, '2', 'and later readers get its result')

  lambda.routing = { functionVersion: '1', canary: null, revisionId: 'r3' }
  t.equal(await cache.aliasRevision(deployer, TARGET), 'r3')
  await new Promise((resolve) => setImmediate(resolve))
  t.equal((await cache.read(deployer, TARGET, 1)).functionVersion, '1', 'a revision other than the cached read\'s drops it')

  const before = lambda.calls.length
  await cache.fence(deployer, TARGET)
  t.equal((await cache.read(deployer, TARGET, 1)).revisionId, 'r3+', 'fencing drops it too')
  t.equal(lambda.calls.slice(before).filter((call) => call === 'GetAlias').length, 2)

  cache.forget(TARGET)
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.slice(before).filter((call) => call === 'GetAlias').length, 3, 'a forgotten alias is read again')
})

t.test('failures: a missing alias is a get-alias step error, a pinless version is read again, a failed read is shared for the TTL', async (t) => {
  const { lambda, deployer, cache, clock } = world()
  lambda.routing = null
  await t.rejects(cache.read(deployer, TARGET, 1), { name: 'DeployStepError', step: 'get-alias', message: /alias live of fn does not exist/ })

  clock.ms = 5000
  lambda.routing = { functionVersion: 'pinless', canary: null, revisionId: 'r1' }
  t.equal((await cache.read(deployer, TARGET, 1)).pin, undefined)
  clock.ms = 10_000
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.filter((call) => call === 'GetFunctionConfiguration pinless').length, 2, 'a version without a pin is not kept')

  clock.ms = 15_000
  lambda.failing = true
  const failed = await Promise.all(Array.from({ length: 10 }, async () => await cache.read(deployer, TARGET, 1).catch((error: unknown) => error)))
  t.ok(failed.every((error) => error instanceof DeployStepError))
  const calls = lambda.calls.length
  await t.rejects(cache.read(deployer, TARGET, 1))
  t.equal(lambda.calls.length, calls, 'Lambda failing is not asked again within the TTL')
  lambda.failing = false
  t.equal((await cache.refresh(deployer, TARGET)).functionVersion, 'pinless', 'a move\'s read still goes to Lambda')
})

t.test('with a TTL of 0, only readers of a read in flight share it', async (t) => {
  const { lambda, deployer, cache } = world(0)
  await Promise.all(Array.from({ length: 10 }, async () => await cache.read(deployer, TARGET, 1)))
  t.equal(lambda.calls.filter((call) => call === 'GetAlias').length, 1, 'concurrent readers shared one read')
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.filter((call) => call === 'GetAlias').length, 2, 'a later reader reads again')
})

t.test('a version\'s pin is read again when a version of that number is published, and after ten minutes', async (t) => {
  const { lambda, deployer, cache, clock } = world()
  await cache.read(deployer, TARGET, 1)
  cache.forgetVersion('fn', '1')
  cache.forget(TARGET)
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.filter((call) => call === 'GetFunctionConfiguration 1').length, 2, 'read again after a publish')
  clock.ms = 10 * 60 * 1000 - 1
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.filter((call) => call === 'GetFunctionConfiguration 1').length, 2, 'kept for ten minutes')
  clock.ms = 10 * 60 * 1000 + 2000
  await cache.read(deployer, TARGET, 1)
  t.equal(lambda.calls.filter((call) => call === 'GetFunctionConfiguration 1').length, 3, 'then read again')
})
