import t from 'tap'
import { build } from './helpers/app.js'

t.test('register, promote, promote again and roll back over HTTP: three history entries with actor and reason', async (t) => {
  const { api, modelWithReleases } = await build(t)
  const [one, two] = await modelWithReleases('resnet', 2)
  t.equal(one?.number, 1)
  t.equal(two?.number, 2)
  const alice = (await api('POST', '/v1/tokens', { body: { name: 'alice', role: 'promoter' } })).body.token as string

  const first = await api('POST', '/v1/models/resnet/aliases/production/promote', { token: alice, body: { release: 1, reason: 'first release' } })
  t.equal(first.status, 200)
  t.match(first.body, { model: 'resnet', alias: 'production', release: 1, revision: 1, canary: null })
  t.equal(first.headers.etag, '"1"')

  const second = await api('POST', '/v1/models/resnet/aliases/production/promote', {
    token: alice, body: { release: 2, reason: 'better weights' }, headers: { 'if-match': '"1"' },
  })
  t.equal(second.status, 200)
  t.match(second.body, { release: 2, revision: 2 })
  t.equal(second.headers.etag, '"2"')

  const back = await api('POST', '/v1/models/resnet/aliases/production/rollback', { token: alice, body: { reason: 'regression' } })
  t.equal(back.status, 200)
  t.match(back.body, { release: 1, revision: 3 }, 'rollback without `to` returns to the earlier release')
  t.equal(back.headers.etag, '"3"')

  const read = await api('GET', '/v1/models/resnet/aliases/production')
  t.equal(read.status, 200)
  t.match(read.body, { alias: 'production', release: 1, revision: 3, canary: null, live: null, drift: false })
  t.equal(read.headers.etag, '"3"')

  const history = await api('GET', '/v1/models/resnet/aliases/production/history')
  t.equal(history.status, 200)
  t.equal(history.body.history.length, 3)
  t.match(history.body.history, [
    { action: 'rollback', fromRelease: 2, toRelease: 1, actor: 'alice', reason: 'regression', outcome: 'succeeded' },
    { action: 'promote', fromRelease: 1, toRelease: 2, actor: 'alice', reason: 'better weights', outcome: 'succeeded' },
    { action: 'promote', fromRelease: null, toRelease: 1, actor: 'alice', reason: 'first release', outcome: 'succeeded' },
  ])
  for (const entry of history.body.history) t.ok(Date.parse(entry.at) > 0, `entry at ${entry.at} is a timestamp`)

  const limited = await api('GET', '/v1/models/resnet/aliases/production/history?limit=1')
  t.equal(limited.body.history.length, 1)
  t.equal(limited.body.history[0].action, 'rollback')

  const toggled = await api('POST', '/v1/models/resnet/aliases/production/rollback', { token: alice, body: { reason: 'it was fine' } })
  t.match(toggled.body, { release: 2, revision: 4 }, 'a second rollback toggles back')
  const named = await api('POST', '/v1/models/resnet/aliases/production/rollback', {
    token: alice, body: { to: 1, reason: 'pin it' }, headers: { 'if-match': '4' },
  })
  t.match(named.body, { release: 1, revision: 5 }, 'rollback to a named release, with a bare If-Match')
})

t.test('a canary over HTTP: start, promote and abort each move the alias, bump its ETag and record history', async (t) => {
  const { api, modelWithReleases } = await build(t)
  await modelWithReleases('resnet', 3)
  t.equal((await api('POST', '/v1/models/resnet/aliases/staging/promote', { body: { release: 1, reason: 'base' } })).status, 200)

  const started = await api('POST', '/v1/models/resnet/aliases/staging/canary', {
    body: { release: 2, weight: 0.25, reason: 'try 2' }, headers: { 'if-match': '"1"' },
  })
  t.equal(started.status, 200)
  t.match(started.body, { release: 1, revision: 2, canary: { release: 2, weight: 0.25 } })
  t.equal(started.headers.etag, '"2"')

  const promoted = await api('POST', '/v1/models/resnet/aliases/staging/canary/promote', { body: { reason: '2 is good' } })
  t.equal(promoted.status, 200)
  t.match(promoted.body, { release: 2, revision: 3, canary: null })

  t.equal((await api('POST', '/v1/models/resnet/aliases/staging/canary', { body: { release: 3, weight: 0.5 } })).status, 200)
  const aborted = await api('DELETE', '/v1/models/resnet/aliases/staging/canary', { headers: { 'if-match': '"4"' } })
  t.equal(aborted.status, 200)
  t.match(aborted.body, { release: 2, revision: 5, canary: null })

  const noCanary = await api('DELETE', '/v1/models/resnet/aliases/staging/canary')
  t.equal(noCanary.status, 400)
  t.equal(noCanary.body.error.code, 'no_canary')

  const history = await api('GET', '/v1/models/resnet/aliases/staging/history')
  t.same(history.body.history.map((h: { action: string }) => h.action),
    ['canary-abort', 'canary-start', 'canary-promote', 'canary-start', 'promote'])
})

t.test('predict on a registry-only model answers 422 not_deployed and invokes nothing', async (t) => {
  const { api, modelWithReleases } = await build(t)
  await modelWithReleases('resnet', 1)
  await api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 1 } })
  const res = await api('POST', '/v1/models/resnet/predict', { body: { image: { base64: 'aGVsbG8=' }, release: 1 } })
  t.equal(res.status, 422)
  t.equal(res.body.error.code, 'not_deployed')
  const bad = await api('POST', '/v1/models/resnet/predict', { body: { image: { url: 'http://x' } } })
  t.equal(bad.status, 400)
  t.equal(bad.body.error.code, 'invalid_input')
})
