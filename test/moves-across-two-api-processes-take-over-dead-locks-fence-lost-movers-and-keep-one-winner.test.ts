import { existsSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { Answer } from './helpers/admin-api.js'
import { ALIAS_PATH, MODEL_ALIAS, startMoveWorld, waitFor, type WorldApi } from './helpers/move-world.js'

/** Debian's libfaketime (installed by .ci/run): a process under it reads a skewed wall clock. */
const LIBFAKETIME = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find(existsSync)
const TTL_SECONDS = 3

/**
 * Two API processes on one PostgreSQL database (lock TTL 3 s, reconcile every second), each reaching the local
 * Lambda runtime through its own fault proxy.
 */
t.test('two API processes on one PostgreSQL database', async (t) => {
  const world = await startMoveWorld(t, { database: 'postgres', env: { MODELPIN_LOCK_TTL_SECONDS: String(TTL_SECONDS) } })
  let a = await world.startApi()
  const b = await world.startApi()
  await world.registerModel(a.api, 3)
  t.equal((await a.api.post(`${MODEL_ALIAS}/promote`, { release: 1 })).status, 200)
  const history = async (): Promise<Array<Record<string, unknown>>> => (await b.api.get(`${MODEL_ALIAS}/history`)).body.history
  const withReason = async (reason: string): Promise<Array<Record<string, unknown>>> => (await history()).filter((entry) => entry.reason === reason)

  t.test('one killed mid-move: the alias is movable through the other within the TTL plus a few seconds', async (t) => {
    const held = a.proxy.add({ method: 'PUT', path: ALIAS_PATH, action: { kind: 'forward' }, until: new Promise(() => {}) })
    a.api.post(`${MODEL_ALIAS}/promote`, { release: 2, reason: 'killed' }).catch(() => {})
    await held.matched()
    a.process.kill('SIGKILL')
    await a.process.exited
    const killedAt = Date.now()
    const moved = await waitFor(async () => {
      const answer = await b.api.post(`${MODEL_ALIAS}/promote`, { release: 3, reason: 'through the other' })
      return answer.status === 200 ? answer : undefined
    }, (TTL_SECONDS + 10) * 1000)
    t.comment(`take-over: the alias moved through the other process ${Date.now() - killedAt} ms after the kill (TTL ${TTL_SECONDS} s)`)
    t.match(moved.body, { release: 3 })
    t.match(await withReason('killed'), [{ action: 'promote', toRelease: 2, outcome: 'failed', detail: /^settled by reconcile/ }], 'the killed move: one entry')
    t.match(await withReason('through the other'), [{ outcome: 'succeeded' }])
    t.match((await b.api.get(MODEL_ALIAS)).body, { release: 3, drift: false, live: { release: 3, functionVersion: await world.lambdaVersion() } })
    a = await world.startApi()
  })

  t.test('twenty concurrent If-Match moves split across both processes: exactly one winner, and Lambda agrees', async (t) => {
    const { etag } = await b.api.get(MODEL_ALIAS)
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).api.post(`${MODEL_ALIAS}/promote`, { release: 1 + (i % 2), reason: `racer ${i}` }, { 'if-match': etag! })))
    const won = answers.filter((answer) => answer.status === 200)
    t.equal(won.length, 1, 'one 200')
    t.same(answers.filter((answer) => answer.status !== 200).map((answer) => answer.status), Array(19).fill(412), 'nineteen 412s')
    const winner = won[0]!.body.release as number
    t.match((await b.api.get(MODEL_ALIAS)).body, { release: winner, drift: false, live: { release: winner, functionVersion: await world.lambdaVersion() } })
  })

  /**
   * `mover` starts a move whose routing call the proxy holds, then is frozen (SIGSTOP) past its lock's TTL: the other
   * process's reconcile takes the lock over, fences Lambda and settles the move as failed. Thawed, the mover's
   * routing call reaches Lambda with the revision it saw before the fence: Lambda refuses it, and the move answers
   * without claiming success.
   */
  const fencedMove = async (t: Test, mover: WorldApi, reason: string): Promise<void> => {
    const served = await world.lambdaVersion()
    const before = (await b.api.get(MODEL_ALIAS)).body
    const target = before.release === 1 ? 2 : 1
    let open!: () => void
    const held = mover.proxy.add({ method: 'PUT', path: ALIAS_PATH, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { open = resolve }), times: 1 })
    const answer = mover.api.post(`${MODEL_ALIAS}/promote`, { release: target, reason })
    await held.matched()
    mover.process.kill('SIGSTOP')
    const settled = await waitFor(async () => {
      const entries = await withReason(reason)
      return entries.length > 0 ? entries : undefined
    }, (TTL_SECONDS + 10) * 1000)
    t.match(settled, [{ action: 'promote', toRelease: target, outcome: 'failed', detail: /^settled by reconcile/ }], 'taken over and settled by the other process')
    mover.process.kill('SIGCONT')
    open()
    const refused: Answer = await answer
    t.not(refused.status, 200, `the fenced mover does not claim success (${refused.status} ${JSON.stringify(refused.body)})`)
    t.equal(await world.lambdaVersion(), served, 'its routing call did not reach Lambda\'s routing')
    t.equal((await withReason(reason)).length, 1, 'still one entry for the move')
    t.match((await b.api.get(MODEL_ALIAS)).body, { release: before.release, drift: false })
    t.equal((await b.api.post(`${MODEL_ALIAS}/promote`, { release: target, reason: `${reason}, then moved` })).status, 200, 'the alias moves again')
  }

  t.test('a mover that lost its lock cannot route Lambda (fencing)', async (t) => {
    await fencedMove(t, a, 'fenced')
  })

  t.test('a mover with a skewed clock can neither steal a live lock nor route once fenced', { skip: LIBFAKETIME === undefined ? 'libfaketime is not installed (apt-get install faketime)' : false }, async (t) => {
    const skewed = await world.startApi({ env: { LD_PRELOAD: LIBFAKETIME!, FAKETIME: '+1h', FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_DONT_RESET: '1' } })
    const date = new Date((await fetch(`${skewed.process.url}/healthz`)).headers.get('date') ?? 0).getTime()
    t.ok(date - Date.now() > 50 * 60_000, 'the skewed process\'s clock runs an hour ahead')

    // b's move holds the lock (its routing call held); the skewed process, which would think it long expired, is refused
    let open!: () => void
    const held = b.proxy.add({ method: 'PUT', path: ALIAS_PATH, action: { kind: 'forward' }, until: new Promise<void>((resolve) => { open = resolve }), times: 1 })
    const current = (await b.api.get(MODEL_ALIAS)).body.release as number
    const live = b.api.post(`${MODEL_ALIAS}/promote`, { release: current === 1 ? 2 : 1, reason: 'holding' })
    await held.matched()
    const stolen = await skewed.api.post(`${MODEL_ALIAS}/promote`, { release: 3, reason: 'steal' })
    t.match(stolen, { status: 409, body: { error: { code: 'alias_busy' } } }, 'a live lock is not taken over')
    open()
    t.equal((await live).status, 200)

    await fencedMove(t, skewed, 'fenced with a skewed clock')
  })
})
