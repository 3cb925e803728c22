import { Readable } from 'node:stream'
import t, { type Test } from 'tap'
import { build, type ApiAnswer, type TestApp } from './helpers/app.js'
import { snapshotTables } from './helpers/database-snapshot.js'
import { DATABASE_KINDS, type DatabaseKind } from './helpers/registry.js'

/** Builds an app with model `resnet` (two releases, production on release 1) and a viewer token. */
async function setup (t: Test, database: DatabaseKind): Promise<TestApp & { viewer: string, weightsVersionId: string, labelsVersionId: string }> {
  const app = await build(t, { database })
  const [release] = await app.modelWithReleases('resnet', 2)
  await app.api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 1, reason: 'base' } })
  const viewer = (await app.api('POST', '/v1/tokens', { body: { name: 'vera', role: 'viewer' } })).body.token as string
  return { ...app, viewer, weightsVersionId: release!.weightsVersionId, labelsVersionId: release!.labelsVersionId }
}

for (const database of DATABASE_KINDS) {
  t.test(`${database}: every bad input answers its status and code, and the database and bucket are unchanged afterwards`, async (t) => {
    const app = await setup(t, database)
    const { api, viewer, labelsVersionId } = app
    const tablesBefore = await snapshotTables(app.app.database.db)
    const versionsBefore = await app.versionCount()

    const cases: Array<[string, () => Promise<ApiAnswer>, number, string, RegExp?]> = [
      ['malformed JSON', () => api('POST', '/v1/models', { body: '{"name": "x",', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
      ['an empty JSON body', () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: '', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json'],
      ['an unknown model', () => api('GET', '/v1/models/nope'), 404, 'model_not_found', /nope/],
      ['an unknown model for a release', () => api('POST', '/v1/models/nope/releases', { body: { weightsVersionId: 'a', labelsVersionId: 'b' } }), 404, 'model_not_found'],
      ['an upload to an unknown model', () => app.upload('nope', 'weights', 'bytes'), 404, 'model_not_found'],
      ['an unknown release in the path', () => api('GET', '/v1/models/resnet/releases/99'), 404, 'release_not_found'],
      ['a release number that is not a number', () => api('GET', '/v1/models/resnet/releases/latest'), 400, 'invalid_input'],
      ['an unknown release in the body', () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 99 } }), 422, 'unknown_release', /99/],
      ['an unknown rollback target', () => api('POST', '/v1/models/resnet/aliases/production/rollback', { body: { to: 42 } }), 422, 'unknown_release', /42/],
      ['an unknown alias', () => api('GET', '/v1/models/resnet/aliases/nope'), 404, 'alias_not_found'],
      ['a VersionId that is not in S3', () => api('POST', '/v1/models/resnet/releases', { body: { weightsVersionId: 'no-such-version', labelsVersionId } }), 422, 'version_not_found', /no-such-version/],
      ['a model name with a slash', () => app.createModel('a/b'), 400, 'invalid_input'],
      ['a model name with ..', () => app.createModel('a..b'), 400, 'invalid_input'],
      ['a model name that is ..', () => app.createModel('..'), 400, 'invalid_input'],
      ['a model name with a control character', () => app.createModel('a\u0001b'), 400, 'invalid_input'],
      ['a model name with a newline', () => app.createModel('ab\n'), 400, 'invalid_input'],
      ['an encoded slash in the path', () => api('GET', '/v1/models/a%2Fb'), 400, 'invalid_input'],
      ['.. in the path', () => api('GET', '/v1/models/../releases'), 404, 'not_found'],
      ['an encoded .. in the path', () => api('GET', '/v1/models/%2E%2E/releases'), 404, 'not_found'],
      ['.. in an alias', () => api('POST', '/v1/models/resnet/aliases/a..b/promote', { body: { release: 2 } }), 400, 'invalid_input'],
      ['a control character in the path', () => api('GET', '/v1/models/a%01b'), 400, 'invalid_input'],
      ['an upload to a name with an encoded slash', () => api('PUT', '/v1/models/a%2Fb/artifacts/weights', { body: 'bytes' }), 400, 'invalid_input'],
      ['an upload to a path with a slash in the name', () => api('PUT', '/v1/models/resnet/x/artifacts/weights', { body: 'bytes' }), 404, 'not_found'],
      ['an upload with no body', () => api('PUT', '/v1/models/resnet/artifacts/weights'), 400, 'empty_body'],
      ['an upload with an empty body', () => api('PUT', '/v1/models/resnet/artifacts/weights', { body: '', headers: { 'content-type': 'application/octet-stream' } }), 400, 'empty_body'],
      ['an upload with an empty chunked body', () => api('PUT', '/v1/models/resnet/artifacts/labels', { body: Readable.from([]), headers: { 'content-type': 'text/plain' } }), 400, 'empty_body'],
      ['a missing token', () => api('POST', '/v1/models/resnet/aliases/production/promote', { token: null, body: { release: 2 } }), 401, 'unauthorized'],
      ['a wrong token', () => api('POST', '/v1/models/resnet/aliases/production/promote', { token: 'mp_wrong', body: { release: 2 } }), 401, 'unauthorized'],
      ['an upload with a wrong token', () => app.upload('resnet', 'weights', 'bytes', 'mp_wrong'), 401, 'unauthorized'],
      ['a viewer trying to promote', () => api('POST', '/v1/models/resnet/aliases/production/promote', { token: viewer, body: { release: 2 } }), 403, 'forbidden', /promoter/],
      ['a viewer trying to upload', () => app.upload('resnet', 'weights', 'bytes', viewer), 403, 'forbidden'],
      ['an If-Match that is not a revision', () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 2 }, headers: { 'if-match': 'W/"1"' } }), 400, 'invalid_input', /If-Match/],
      ['a stale If-Match', () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 2 }, headers: { 'if-match': '"7"' } }), 412, 'revision_mismatch'],
      ['an unknown field', () => api('POST', '/v1/models/resnet/aliases/production/promote', { body: { release: 2, reasn: 'typo' } }), 400, 'invalid_input'],
      ['a weight outside 0..1', () => api('POST', '/v1/models/resnet/aliases/production/canary', { body: { release: 2, weight: 1.5 } }), 400, 'invalid_input'],
      ['a second model with a taken name', () => app.createModel('resnet'), 409, 'model_exists'],
      ['a JSON body on the wrong content type', () => api('POST', '/v1/models', { body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type'],
      ['an unknown route', () => api('GET', '/v1/nothing'), 404, 'not_found'],
    ]

    for (const [what, send, status, code, message] of cases) {
      const res = await send()
      t.equal(res.status, status, `${what}: status`)
      t.same(Object.keys(res.body ?? {}), ['error'], `${what}: the error shape`)
      t.same(Object.keys(res.body?.error ?? {}).sort(), ['code', 'message'], `${what}: code and message only`)
      t.equal(res.body?.error?.code, code, `${what}: code`)
      if (message !== undefined) t.match(res.body?.error?.message, message, `${what}: the message names it`)
    }

    t.same(await snapshotTables(app.app.database.db), tablesBefore, 'no row was added, changed or removed in any table')
    t.equal(await app.versionCount(), versionsBefore, 'no object version was added to the bucket')
    const alias = await api('GET', '/v1/models/resnet/aliases/production')
    t.match(alias.body, { release: 1, revision: 1 }, 'the alias did not move')
  })
}

t.test('listing the versions of a model whose bucket does not exist answers 422 bucket_not_found', async (t) => {
  const app = await build(t)
  t.equal((await app.createModel('resnet', { bucket: 'no-such-bucket-modelpin' })).status, 201)
  const res = await app.api('GET', '/v1/models/resnet/artifacts/weights/versions')
  t.equal(res.status, 422)
  t.equal(res.body.error.code, 'bucket_not_found')
  t.match(res.body.error.message, /no-such-bucket-modelpin/)
})

t.test('an unexpected failure answers 500 internal with a generic message and no internals', async (t) => {
  const app = await build(t)
  await app.createModel('resnet')
  // a real failure, not a fake: the database is gone under the running app
  await app.app.database.close()
  const res = await app.api('GET', '/v1/models/resnet')
  t.equal(res.status, 500)
  t.same(res.body, { error: { code: 'internal', message: 'internal error; the server log has the details' } })
})
