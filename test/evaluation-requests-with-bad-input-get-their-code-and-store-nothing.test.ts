import { PutObjectCommand } from '@aws-sdk/client-s3'
import t from 'tap'
import { startMoveWorld } from './helpers/move-world.js'
import { testS3Client } from './helpers/s3.js'

t.test('bad requests get their code and store nothing', async (t) => {
  const world = await startMoveWorld(t, { database: 'sqlite', handler: 'answers-by-release.mjs' })
  const { api } = await world.startApi()
  await world.registerModel(api, 2)
  const s3 = testS3Client()
  t.teardown(() => { s3.destroy() })
  await s3.send(new PutObjectCommand({ Bucket: world.bucket, Key: 'in/0.jpg', Body: 'image' }))
  const inputs = { bucket: world.bucket, prefix: 'in/' }
  const cases: Array<[string, unknown, number, string]> = [
    ['no baseline while the alias serves nothing', { candidate: 2, inputs }, 400, 'invalid_input'],
    ['candidate equal to baseline', { candidate: 2, baseline: 2, inputs }, 400, 'invalid_input'],
    ['an unknown candidate', { candidate: 9, baseline: 1, inputs }, 422, 'unknown_release'],
    ['an unknown baseline', { candidate: 2, baseline: 9, inputs }, 422, 'unknown_release'],
    ['a bucket that does not exist', { candidate: 2, baseline: 1, inputs: { bucket: 'no-such-bucket-modelpin-eval' } }, 422, 'bucket_not_found'],
    ['nothing under the prefix', { candidate: 2, baseline: 1, inputs: { ...inputs, prefix: 'none/' } }, 422, 'no_inputs'],
    ['nothing modified after', { candidate: 2, baseline: 1, inputs: { ...inputs, modifiedAfter: new Date(Date.now() + 3600_000).toISOString() } }, 422, 'no_inputs'],
    ['a limit of 0', { candidate: 2, baseline: 1, inputs: { ...inputs, limit: 0 } }, 400, 'invalid_input'],
    ['a limit over 1000', { candidate: 2, baseline: 1, inputs: { ...inputs, limit: 1001 } }, 400, 'invalid_input'],
    ['a time that is not one', { candidate: 2, baseline: 1, inputs: { ...inputs, modifiedAfter: 'yesterday' } }, 400, 'invalid_input'],
    ['an unknown field', { candidate: 2, baseline: 1, inputs, extra: true }, 400, 'invalid_input'],
  ]
  for (const [what, body, status, code] of cases) {
    t.match(await api.post('/v1/models/m/evaluations', body), { status, body: { error: { code } } }, what)
  }
  t.same((await api.get('/v1/models/m/evaluations')).body, { evaluations: [] }, 'nothing stored')
  t.match(await api.get('/v1/models/m/evaluations/nope'), { status: 404, body: { error: { code: 'evaluation_not_found' } } })
  t.match(await api.get('/v1/models/nope/evaluations'), { status: 404, body: { error: { code: 'model_not_found' } } })
  const fine = await api.post('/v1/models/m/evaluations', { candidate: 2, baseline: 1, inputs: { ...inputs, modifiedAfter: '2020-01-01T00:00:00Z', limit: 1 } })
  t.match(fine, { status: 202, body: { status: 'running', inputs: { count: 1 } } }, 'and the same request, well formed, is accepted')
})
