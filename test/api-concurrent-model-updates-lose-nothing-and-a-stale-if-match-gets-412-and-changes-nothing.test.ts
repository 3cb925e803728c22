import t from 'tap'
import { build, type ApiAnswer } from './helpers/app.js'
import { snapshotTables } from './helpers/database-snapshot.js'
import { DATABASE_KINDS } from './helpers/registry.js'

// What a lost update would look like: two PATCHes read the same version and the second write drops the first's
// field. Half of the PATCHes below change the gate images and half the deploy alias, so each answer must show the
// other field as the PATCH before it left it.

/** A model as compared across answers: everything but the time of its last update. */
function fieldsOf (body: any): Record<string, unknown> {
  const { updatedAt, ...fields } = body
  return fields
}

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: twenty concurrent PATCHes without If-Match apply one after the other, each to the result of the one before`, async (t) => {
    const { api, bucket, createModel } = await build(t, { database: kind })
    const created = await createModel('resnet')
    t.equal(created.status, 201)
    t.equal(created.body.version, 1, 'a new model is at version 1')
    t.equal(created.headers.etag, '"1"', 'POST sends the version as the ETag')
    const read = await api('GET', '/v1/models/resnet')
    t.equal(read.headers.etag, '"1"', 'GET sends it too')

    const patches = Array.from({ length: 20 }, (_, i) => i % 2 === 0
      ? { gateImages: [{ bucket, key: `gate/${i}.jpg` }] }
      : { deployAlias: `alias-${i}` })
    const answers = await Promise.all(patches.map((patch) => api('PATCH', '/v1/models/resnet', { body: patch })))

    t.same(answers.map((answer) => answer.status), patches.map(() => 200), 'every PATCH is applied')
    const byVersion = answers.map((answer, i) => ({ answer, patch: patches[i]! })).sort((a, b) => a.answer.body.version - b.answer.body.version)
    t.same(byVersion.map(({ answer }) => answer.body.version), Array.from({ length: 20 }, (_, i) => i + 2),
      'each answer has its own version: 2 to 21')
    let state: Record<string, unknown> = fieldsOf(created.body)
    for (const { answer, patch } of byVersion) {
      state = { ...state, ...patch, version: answer.body.version }
      t.same(fieldsOf(answer.body), state, `version ${answer.body.version} is its PATCH applied to version ${answer.body.version - 1}`)
      t.equal(answer.headers.etag, `"${answer.body.version}"`, 'PATCH sends the new version as the ETag')
    }
    const final = await api('GET', '/v1/models/resnet')
    t.same(fieldsOf(final.body), state, 'the model is what the last PATCH answered')
    t.equal(final.headers.etag, '"21"')
  })

  t.test(`${kind}: a PATCH with a stale If-Match gets 412 and changes nothing; the current version, quoted or bare, applies`, async (t) => {
    const { app, api, createModel } = await build(t, { database: kind })
    t.equal((await createModel('resnet')).status, 201)
    t.equal((await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'prod' } })).body.version, 2)
    const db = app.database.db

    const before = await snapshotTables(db)
    const refusals: Array<[string, ApiAnswer]> = [
      ['stale, quoted', await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'stale' }, headers: { 'if-match': '"1"' } })],
      ['stale, bare', await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'stale' }, headers: { 'if-match': '1' } })],
      ['ahead', await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'stale' }, headers: { 'if-match': '"3"' } })],
    ]
    for (const [what, answer] of refusals) {
      t.equal(answer.status, 412, `${what}: 412`)
      t.match(answer.body, { error: { code: 'revision_mismatch', message: /model resnet is at version 2, not [13]/ } }, what)
    }
    const malformed = await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'stale' }, headers: { 'if-match': 'W/"x"' } })
    t.match(malformed, { status: 400, body: { error: { code: 'invalid_input', message: /If-Match must be a model version/ } } })
    t.same(await snapshotTables(db), before, 'no refused PATCH changed a row')

    const quoted = await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'checked' }, headers: { 'if-match': '"2"' } })
    t.match(quoted, { status: 200, body: { deployAlias: 'checked', version: 3 }, headers: { etag: '"3"' } })
    const bare = await api('PATCH', '/v1/models/resnet', { body: { deployAlias: 'bare' }, headers: { 'if-match': '3' } })
    t.match(bare, { status: 200, body: { deployAlias: 'bare', version: 4 } })

    // ten PATCHes with the same If-Match at once: exactly one is applied
    const racing = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      api('PATCH', '/v1/models/resnet', { body: { deployAlias: `racer-${i}` }, headers: { 'if-match': '"4"' } })))
    const won = racing.filter((answer) => answer.status === 200)
    t.equal(won.length, 1, 'one winner')
    t.same(racing.filter((answer) => answer.status !== 200).map((answer) => answer.body.error.code), Array(9).fill('revision_mismatch'))
    t.same((await api('GET', '/v1/models/resnet')).body, won[0]!.body, 'the model is the winner\'s')
    t.equal(won[0]!.body.version, 5)
  })
}
