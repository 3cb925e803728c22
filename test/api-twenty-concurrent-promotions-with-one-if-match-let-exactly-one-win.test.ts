import t from 'tap'
import { build } from './helpers/app.js'

for (const database of ['sqlite', 'postgres'] as const) {
  t.test(`${database}: twenty concurrent promotions with the same If-Match give one 200, nineteen 412 and one history entry`, async (t) => {
    const { api, modelWithReleases } = await build(t, { database })
    await modelWithReleases('resnet', 3)
    const base = await api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 1, reason: 'base' } })
    t.equal(base.headers.etag, '"1"')

    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      api('POST', '/v1/models/resnet/aliases/production/promote', {
        body: { release: 2 + (i % 2), reason: `racer ${i}` }, headers: { 'if-match': '"1"' },
      })))
    const statuses = answers.map((a) => a.status).sort()
    t.same(statuses, [200, ...Array(19).fill(412)])
    for (const loser of answers.filter((a) => a.status === 412)) t.equal(loser.body.error.code, 'revision_mismatch')
    const winner = answers.find((a) => a.status === 200)!
    t.equal(winner.headers.etag, '"2"')

    const history = (await api('GET', '/v1/models/resnet/aliases/production/history')).body.history
    t.equal(history.length, 2, 'one new history entry next to the first promotion')
    t.match(history[0], { action: 'promote', fromRelease: 1, toRelease: winner.body.release, outcome: 'succeeded' })
    const alias = await api('GET', '/v1/models/resnet/aliases/production')
    t.match(alias.body, { release: winner.body.release, revision: 2 })

    const metrics = (await api('GET', '/metrics', { token: null })).text
    t.match(metrics, /modelpin_promotions_total\{action="promote",outcome="revision_mismatch"\} 19/)
    t.match(metrics, /modelpin_promotions_total\{action="promote",outcome="succeeded"\} 2/)
  })
}

t.test('without If-Match, a move while another of the same alias is in flight answers 409 alias_busy or goes after it', async (t) => {
  const { api, modelWithReleases } = await build(t)
  await modelWithReleases('resnet', 2)
  await api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 1 } })
  const answers = await Promise.all(Array.from({ length: 10 }, () =>
    api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 2 } })))
  const ok = answers.filter((a) => a.status === 200).length
  const busy = answers.filter((a) => a.status === 409)
  t.equal(ok + busy.length, 10, 'each answers 200 or 409')
  t.ok(ok >= 1, `at least one moves (${ok})`)
  for (const b of busy) t.equal(b.body.error.code, 'alias_busy')
  const history = (await api('GET', '/v1/models/resnet/aliases/production/history')).body.history
  t.equal(history.length, 1 + ok, 'one history entry per move that answered 200, none for the refused ones')
  t.equal((await api('GET', '/v1/models/resnet/aliases/production')).body.revision, 1 + ok)
})
