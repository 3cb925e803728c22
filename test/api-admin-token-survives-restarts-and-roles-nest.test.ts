import { stat, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { build } from './helpers/app.js'

t.test('the admin token is written to <data dir>/admin-token (mode 0600) and reused after a restart and a database reset', async (t) => {
  const first = await build(t)
  const file = join(first.dataDir, 'admin-token')
  t.equal(await readFile(file, 'utf8'), `${first.adminToken}\n`)
  t.equal((await stat(file)).mode & 0o777, 0o600)
  t.match(first.adminToken, /^mp_[\w-]{40,}$/)
  await first.app.close()

  const restarted = await build(t, { dataDir: first.dataDir })
  t.equal(restarted.adminToken, first.adminToken, 'same token after a restart')
  t.equal((await restarted.api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201)
  await restarted.app.close()

  await rm(join(first.dataDir, 'registry.db'))
  const reset = await build(t, { dataDir: first.dataDir })
  t.equal(reset.adminToken, first.adminToken, 'same token after the database is reset')
  t.equal((await reset.api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201)
})

t.test('MODELPIN_ADMIN_TOKEN is the admin token when set, and is written to the file', async (t) => {
  const token = 'configured-admin-token-0123456789'
  const { adminToken, api, dataDir } = await build(t, { config: { adminToken: token } })
  t.equal(adminToken, token)
  t.equal(await readFile(join(dataDir, 'admin-token'), 'utf8'), `${token}\n`)
  t.equal((await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'viewer' } })).status, 201)
})

t.test('a request without a token, with a wrong one or with another scheme answers 401 unauthorized', async (t) => {
  const { api } = await build(t)
  const body = { name: 'x', role: 'viewer' }
  for (const [what, headers] of [
    ['no Authorization header', {}],
    ['an unknown token', { authorization: 'Bearer mp_not-a-real-token' }],
    ['Basic credentials', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ] as const) {
    const res = await api('POST', '/v1/tokens', { token: null, headers, body })
    t.equal(res.status, 401, what)
    t.equal(res.body.error.code, 'unauthorized', what)
  }
})

t.test('an admin mints a token of each role, returned once with its name and role, which whoami names', async (t) => {
  const { api } = await build(t)
  for (const role of ['viewer', 'promoter', 'admin']) {
    const res = await api('POST', '/v1/tokens', { body: { name: `ci-${role}`, role } })
    t.equal(res.status, 201)
    t.equal(res.body.name, `ci-${role}`)
    t.equal(res.body.role, role)
    t.match(res.body.token, /^mp_/)
    const whoami = await api('GET', '/v1/whoami', { token: res.body.token })
    t.same([whoami.status, whoami.body], [200, { name: `ci-${role}`, role, expiresAt: null }])
  }
  t.equal((await api('GET', '/v1/whoami', { token: 'mp_not-a-real-token' })).status, 401)
  const bad = await api('POST', '/v1/tokens', { body: { name: 'x', role: 'root' } })
  t.equal(bad.status, 400)
  t.equal(bad.body.error.code, 'invalid_input')
  const badName = await api('POST', '/v1/tokens', { body: { name: 'has space', role: 'viewer' } })
  t.equal(badName.status, 400)
  t.equal(badName.body.error.code, 'invalid_input')
})

t.test('a minted viewer and promoter can do what their role allows and get 403 above it', async (t) => {
  const { api, upload, modelWithReleases } = await build(t)
  const [release] = await modelWithReleases('resnet', 1)
  const viewer = (await api('POST', '/v1/tokens', { body: { name: 'vera', role: 'viewer' } })).body.token as string
  const promoter = (await api('POST', '/v1/tokens', { body: { name: 'pat', role: 'promoter' } })).body.token as string
  const releaseBody = { weightsVersionId: release!.weightsVersionId, labelsVersionId: release!.labelsVersionId }

  const reads = [
    ['GET', '/v1/models'],
    ['GET', '/v1/models/resnet'],
    ['GET', '/v1/models/resnet/artifacts/weights/versions'],
    ['GET', '/v1/models/resnet/releases'],
    ['GET', '/v1/models/resnet/releases/1'],
  ] as const
  for (const [method, url] of reads) {
    t.equal((await api(method, url, { token: viewer })).status, 200, `viewer: ${method} ${url}`)
    t.equal((await api(method, url, { token: promoter })).status, 200, `promoter: ${method} ${url}`)
  }

  const promoterMoves = [
    ['upload', () => upload('resnet', 'weights', 'more weights', viewer), () => upload('resnet', 'weights', 'more weights', promoter), 201],
    ['register a release', () => api('POST', '/v1/models/resnet/releases', { token: viewer, body: releaseBody }),
      () => api('POST', '/v1/models/resnet/releases', { token: promoter, body: releaseBody }), 201],
    ['promote', () => api('POST', '/v1/models/resnet/aliases/production/promote', { token: viewer, body: { release: 1 } }),
      () => api('POST', '/v1/models/resnet/aliases/production/promote', { token: promoter, body: { release: 1 } }), 200],
    ['start a canary', () => api('POST', '/v1/models/resnet/aliases/production/canary', { token: viewer, body: { release: 2, weight: 0.1 } }),
      () => api('POST', '/v1/models/resnet/aliases/production/canary', { token: promoter, body: { release: 2, weight: 0.1 } }), 200],
    ['abort a canary', () => api('DELETE', '/v1/models/resnet/aliases/production/canary', { token: viewer }),
      () => api('DELETE', '/v1/models/resnet/aliases/production/canary', { token: promoter }), 200],
    ['roll back', () => api('POST', '/v1/models/resnet/aliases/production/rollback', { token: viewer, body: { to: 1 } }),
      () => api('POST', '/v1/models/resnet/aliases/production/rollback', { token: promoter, body: { to: 1 } }), 200],
  ] as const
  for (const [what, asViewer, asPromoter, status] of promoterMoves) {
    const refused = await asViewer()
    t.equal(refused.status, 403, `viewer may not ${what}`)
    t.equal(refused.body.error.code, 'forbidden')
    t.equal((await asPromoter()).status, status, `promoter may ${what}`)
  }
  t.equal((await api('GET', '/v1/models/resnet/aliases/production', { token: viewer })).status, 200, 'viewer reads the alias')
  const history = await api('GET', '/v1/models/resnet/aliases/production/history', { token: viewer })
  t.equal(history.status, 200)
  t.same(new Set(history.body.history.map((h: { actor: string }) => h.actor)), new Set(['pat']), 'the actor is the token\'s name')

  const adminOnly = [
    ['register a model', (token: string) => api('POST', '/v1/models', { token, body: { name: 'other', bucket: 'b-b-b', weightsKey: 'w', labelsKey: 'l' } })],
    ['update a model', (token: string) => api('PATCH', '/v1/models/resnet', { token, body: { gateImages: [] } })],
    ['mint a token', (token: string) => api('POST', '/v1/tokens', { token, body: { name: 'mallory', role: 'admin' } })],
  ] as const
  for (const [what, send] of adminOnly) {
    for (const [role, token] of [['viewer', viewer], ['promoter', promoter]] as const) {
      const res = await send(token)
      t.equal(res.status, 403, `${role} may not ${what}`)
      t.equal(res.body.error.code, 'forbidden')
    }
  }
  t.equal((await adminOnly[1][1]((await build(t)).adminToken)).status, 401, 'another app\'s admin token is unknown here')
})

t.test('an admin registers, reads, lists and updates a model', async (t) => {
  const { api, createModel, bucket } = await build(t)
  const created = await createModel('resnet')
  t.equal(created.status, 201)
  t.match(created.body, {
    name: 'resnet',
    bucket,
    weightsKey: 'resnet/model.onnx',
    labelsKey: 'resnet/labels.txt',
    functionName: null,
    functionAlias: 'live',
    deployAlias: 'production',
    gateImages: [],
  })
  t.same((await api('GET', '/v1/models/resnet')).body, created.body)
  t.same((await api('GET', '/v1/models')).body, { models: [created.body] })
  const updated = await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'stable', gateImages: [{ bucket, key: 'gate/cat.jpg' }] } })
  t.equal(updated.status, 200)
  t.match(updated.body, { name: 'resnet', deployAlias: 'stable', gateImages: [{ bucket, key: 'gate/cat.jpg' }] })
  const empty = await api('PATCH', '/v1/models/resnet', { body: {} })
  t.equal(empty.status, 400, 'an empty patch is refused')
  const renamed = await api('PATCH', '/v1/models/resnet', { body: { name: 'other' } })
  t.equal(renamed.status, 400, 'a name cannot be patched')
  t.equal((await api('PATCH', '/v1/models/nope', { body: { deployAlias: 'x' } })).status, 404)
})
