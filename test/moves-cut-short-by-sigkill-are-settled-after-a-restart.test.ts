import t from 'tap'
import { MODEL_ALIAS, startMoveWorld, waitFor, ALIAS_PATH } from './helpers/move-world.js'

/**
 * The API process killed (SIGKILL) while its move waits on Lambda's routing call, then started again: the move is
 * settled with one entry of its own (action, actor, reason), `failed` since Lambda never got the routing call, and
 * the alias moves again. SQLite settles at start-up (the restarted process is the only one); PostgreSQL once the
 * lock is past its TTL (3 s here).
 */
for (const database of ['sqlite', 'postgres'] as const) {
  t.test(`${database}: a move cut short by SIGKILL is settled after a restart and the alias moves again`, async (t) => {
    const world = await startMoveWorld(t, { database })
    const first = await world.startApi()
    await world.registerModel(first.api, 2)
    t.equal((await first.api.post(`${MODEL_ALIAS}/promote`, { release: 1 })).status, 200)
    const before = await first.api.get(MODEL_ALIAS)
    const servedBefore = await world.lambdaVersion()

    // the routing call is held for good: the process dies with its move in flight, after publishing release 2
    const held = first.proxy.add({ method: 'PUT', path: ALIAS_PATH, action: { kind: 'forward' }, until: new Promise(() => {}) })
    const move = first.api.post(`${MODEL_ALIAS}/promote`, { release: 2, reason: 'cut short' }).then(() => 'answered', () => 'no answer')
    await held.matched()
    first.process.kill('SIGKILL')
    await first.process.exited
    const killedAt = Date.now()
    t.equal(await move, 'no answer', 'the process died before answering')
    first.proxy.clear()

    const again = await world.startApi({ dataDir: first.process.dataDir })
    const history = await waitFor(async () => {
      const entries = (await again.api.get(`${MODEL_ALIAS}/history`)).body.history as Array<Record<string, unknown>>
      return entries.some((entry) => entry.reason === 'cut short') ? entries : undefined
    })
    t.comment(`${database}: settled ${Date.now() - killedAt} ms after the kill (restart included)`)
    const settled = history.filter((entry) => entry.reason === 'cut short')
    t.equal(settled.length, 1, 'one entry for the move')
    t.match(settled[0], { action: 'promote', fromRelease: 1, toRelease: 2, outcome: 'failed', detail: /^settled by reconcile/ })
    t.equal(settled[0]!.actor, history.at(-1)!.actor, 'the original actor')
    t.equal(await world.lambdaVersion(), servedBefore, 'Lambda still serves release 1')
    t.match((await again.api.get(MODEL_ALIAS)).body, { release: 1, revision: before.body.revision, drift: false })

    const moved = await again.api.post(`${MODEL_ALIAS}/promote`, { release: 2, reason: 'after the restart' }, { 'if-match': before.etag! })
    t.equal(moved.status, 200, JSON.stringify(moved.body))
    t.not(await world.lambdaVersion(), servedBefore, 'Lambda moved')
  })
}
