import t from 'tap'
import { build } from './helpers/app.js'
import { snapshotTables } from './helpers/database-snapshot.js'
import { DATABASE_KINDS } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: a second model on a taken Lambda alias gets 409 function_alias_taken on POST and PATCH and changes nothing`, async (t) => {
    const { app, api, createModel } = await build(t, { database: kind })
    const db = app.database.db
    t.equal((await createModel('first', { functionName: 'classifier' })).status, 201, 'first takes classifier:live')
    t.equal((await createModel('second', { functionName: 'classifier', functionAlias: 'blue' })).status, 201, 'an alias of its own')
    t.equal((await createModel('plain-a')).status, 201, 'registry-only models drive no Lambda alias...')
    t.equal((await createModel('plain-b')).status, 201, '...so any number of them coexist')

    const before = await snapshotTables(db)
    const refusals = [
      ['POST, default functionAlias', () => createModel('third', { functionName: 'classifier' })],
      ['POST, explicit functionAlias', () => createModel('third', { functionName: 'classifier', functionAlias: 'live' })],
      ['PATCH of the alias', () => api('PATCH', '/v1/models/second', { body: { functionAlias: 'live' } })],
      ['PATCH of a registry-only model', () => api('PATCH', '/v1/models/plain-a', { body: { functionName: 'classifier' } })],
      ['PATCH with the current If-Match', () => api('PATCH', '/v1/models/second', { body: { functionAlias: 'live' }, headers: { 'if-match': '"1"' } })],
    ] as const
    for (const [what, send] of refusals) {
      const answer = await send()
      t.equal(answer.status, 409, `${what}: 409`)
      t.match(answer.body, { error: { code: 'function_alias_taken', message: /Lambda alias live of function classifier is driven by model first/ } }, what)
    }
    t.same(await snapshotTables(db), before, 'no refusal changed a row (nor a version)')

    t.match(await api('PATCH', '/v1/models/second', { body: { functionName: 'other-function', functionAlias: 'live' } }),
      { status: 200, body: { functionName: 'other-function', functionAlias: 'live', version: 2 } }, 'the same alias name of another function is free')
    t.match(await api('PATCH', '/v1/models/first', { body: { gateImages: [] } }), { status: 200 }, 'the owner may PATCH other fields')

    // the owner leaves: the pair is free for the next model
    t.match(await api('PATCH', '/v1/models/first', { body: { functionAlias: 'green' } }), { status: 200, body: { functionAlias: 'green' } })
    t.match(await api('PATCH', '/v1/models/plain-a', { body: { functionName: 'classifier' } }), { status: 200, body: { functionAlias: 'live' } })
    t.match(await api('PATCH', '/v1/models/first', { body: { functionAlias: 'live' } }), { status: 409, body: { error: { code: 'function_alias_taken' } } },
      'and it is plain-a\'s now')
    const owners = await db.selectFrom('function_alias_owners').selectAll().orderBy('model').execute()
    t.same(owners, [
      { function_name: 'classifier', function_alias: 'green', model: 'first' },
      { function_name: 'classifier', function_alias: 'live', model: 'plain-a' },
      { function_name: 'other-function', function_alias: 'live', model: 'second' },
    ], 'one owner row per Lambda alias in use')
  })

  t.test(`${kind}: ten models registered onto one Lambda alias at once: exactly one gets it`, async (t) => {
    const { api, createModel } = await build(t, { database: kind })
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => createModel(`racer-${i}`, { functionName: 'classifier' })))
    const created = answers.filter((answer) => answer.status === 201)
    t.equal(created.length, 1, 'one registration wins')
    t.same(answers.filter((answer) => answer.status !== 201).map((answer) => answer.body.error.code), Array(9).fill('function_alias_taken'))
    t.same((await api('GET', '/v1/models')).body.models.map((model: any) => model.name), [created[0]!.body.name],
      'the losers left no model behind')

    // and ten PATCHes of other models onto a free one
    for (let i = 0; i < 10; i++) t.equal((await createModel(`mover-${i}`, { functionName: 'classifier', functionAlias: `own-${i}` })).status, 201)
    const moves = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      api('PATCH', `/v1/models/mover-${i}`, { body: { functionAlias: 'contested' } })))
    t.equal(moves.filter((answer) => answer.status === 200).length, 1, 'one PATCH wins')
    t.same(moves.filter((answer) => answer.status !== 200).map((answer) => answer.body.error.code), Array(9).fill('function_alias_taken'))
    const onContested = (await api('GET', '/v1/models')).body.models.filter((model: any) => model.functionAlias === 'contested')
    t.equal(onContested.length, 1, 'one model on the contested alias')
  })
}
