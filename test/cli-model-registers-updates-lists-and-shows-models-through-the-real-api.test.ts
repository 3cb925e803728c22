import { writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { EXIT_CODES, main } from '../src/cli/main.js'
import { build } from './helpers/app.js'
import { captureIo, emptyDirectory } from './helpers/cli.js'

// `modelpin model` against the real admin API (Fastify, SQLite, radosgw) on an ephemeral port: what it registers
// and changes is what the API then serves, and each refusal exits with its code.

t.test('model create, get, list and update register and change models as the API then shows them', async (t) => {
  const { app, adminToken, bucket, api } = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  async function cli (argv: string[], token = adminToken) {
    const captured = await captureIo(t, { env: { MODELPIN_API_URL: url, MODELPIN_TOKEN: token } })
    const code = await main(argv, captured.io)
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  }
  async function cliJson (argv: string[]): Promise<any> {
    const result = await cli([...argv, '--json'])
    t.equal(result.code, EXIT_CODES.ok, `${argv.join(' ')}: ${result.stderr}`)
    return JSON.parse(result.stdout)
  }

  // create with flags: registry-only, the API's defaults for the aliases
  const plain = await cliJson([
    'model', 'create', 'cli-plain', '--bucket', bucket, '--weights-key', 'plain/model.onnx', '--labels-key', 'plain/labels.txt',
  ])
  t.match(plain, {
    name: 'cli-plain',
    bucket,
    weightsKey: 'plain/model.onnx',
    labelsKey: 'plain/labels.txt',
    functionName: null,
    functionAlias: 'live',
    deployAlias: 'production',
    gateImages: [],
  })
  t.same((await api('GET', '/v1/models/cli-plain')).body, plain, 'the API serves what create answered')

  // create with every field, human output
  const full = await cli([
    'model', 'create', 'cli-full', '--bucket', bucket, '--weights-key', 'full/model.onnx', '--labels-key', 'full/labels.txt',
    '--function-name', 'modelpin-inference', '--function-alias', 'serving', '--deploy-alias', 'prod',
    '--gate-image', `${bucket}/gate/red.jpg`, '--gate-image', `s3://${bucket}/gate/blue.jpg`,
  ])
  t.equal(full.code, EXIT_CODES.ok, full.stderr)
  t.match(full.stdout, /^name: +cli-full$/m)
  t.match(full.stdout, /^functionName: +modelpin-inference$/m)
  t.match(full.stdout, /^deployAlias: +prod$/m)
  t.equal(full.stderr, '')
  t.match((await api('GET', '/v1/models/cli-full')).body, {
    functionName: 'modelpin-inference',
    functionAlias: 'serving',
    deployAlias: 'prod',
    gateImages: [{ bucket, key: 'gate/red.jpg' }, { bucket, key: 'gate/blue.jpg' }],
  })

  // create --from a JSON body (as Terraform's model_registration output), a flag winning over the file
  const files = await emptyDirectory(t)
  const registration = path.join(files, 'model-registration.json')
  await writeFile(registration, JSON.stringify({
    name: 'cli-from-file',
    bucket,
    weightsKey: 'file/model.onnx',
    labelsKey: 'file/labels.txt',
    functionName: 'modelpin-inference',
    // a Lambda alias of its own: `live` goes to cli-plain below, and one Lambda alias drives one model
    functionAlias: 'from-file',
  }))
  const fromFile = await cliJson(['model', 'create', '--from', registration, '--labels-key', 'file/other-labels.txt'])
  t.match(fromFile, { name: 'cli-from-file', weightsKey: 'file/model.onnx', labelsKey: 'file/other-labels.txt', functionName: 'modelpin-inference' })

  // get, the short form, list and models
  t.same(await cliJson(['model', 'get', 'cli-full']), await cliJson(['model', 'cli-full']))
  const listed = await cliJson(['model', 'list'])
  t.same(listed.models.map((m: any) => m.name), ['cli-from-file', 'cli-full', 'cli-plain'])
  t.same(await cliJson(['models']), listed)
  const table = await cli(['model', 'list'])
  t.match(table.stdout, /^NAME +BUCKET +WEIGHTS KEY/)
  t.match(table.stdout, /^cli-plain +\S+ +plain\/model\.onnx +plain\/labels\.txt +\(registry only\) +- +production$/m)

  // update: only the fields given change
  const updated = await cliJson(['model', 'update', 'cli-plain', '--function-name', 'modelpin-inference', '--deploy-alias', 'prod'])
  t.match(updated, { name: 'cli-plain', weightsKey: 'plain/model.onnx', functionName: 'modelpin-inference', functionAlias: 'live', deployAlias: 'prod' })
  t.same((await api('GET', '/v1/models/cli-plain')).body, updated)

  // --registry-only and --no-gate-images send null and []
  const detached = await cliJson(['model', 'update', 'cli-full', '--registry-only', '--no-gate-images'])
  t.match(detached, { functionName: null, gateImages: [], deployAlias: 'prod' })
  const gated = await cliJson(['model', 'update', 'cli-full', '--gate-image', `${bucket}/gate/green.jpg`])
  t.same(gated.gateImages, [{ bucket, key: 'gate/green.jpg' }])
  t.equal(gated.prewarm, 1, 'a model warms one environment unless told otherwise')

  // each update bumps the version, which the human output shows and --if-match names
  t.equal(plain.version, 1, 'a new model is at version 1')
  t.equal(gated.version, 3, 'cli-full was updated twice')
  const checked = await cli(['model', 'update', 'cli-full', '--deploy-alias', 'checked', '--if-match', '3'])
  t.equal(checked.code, EXIT_CODES.ok, checked.stderr)
  t.match(checked.stdout, /^version: +4$/m, 'the human output shows the new version')
  const stale = await cli(['model', 'update', 'cli-full', '--deploy-alias', 'stale', '--if-match', '3'])
  t.equal(stale.code, EXIT_CODES.conflict, 'a stale --if-match exits 4')
  t.match(stale.stderr, /^error: revision_mismatch: model cli-full is at version 4, not 3/)
  t.match((await api('GET', '/v1/models/cli-full')).body, { deployAlias: 'checked', version: 4 }, 'the stale update changed nothing')

  // --prewarm: how many environments of the target version a move warms up; out of range is a usage error
  t.match(await cliJson(['model', 'update', 'cli-full', '--prewarm', '4']), { prewarm: 4, version: 5 })
  t.equal((await cli(['model', 'update', 'cli-full', '--prewarm', '51'])).code, EXIT_CODES.usage, '--prewarm 51 is refused before sending')

  // one Lambda alias drives one model: cli-plain has modelpin-inference's `live`
  const taken = await cli(['model', 'update', 'cli-full', '--function-name', 'modelpin-inference', '--function-alias', 'live'])
  t.equal(taken.code, EXIT_CODES.conflict, 'another model\'s Lambda alias exits 4')
  t.match(taken.stderr, /^error: function_alias_taken: Lambda alias live of function modelpin-inference is driven by model cli-plain/)
})

t.test('model create and update refusals exit with the code of the API\'s answer', async (t) => {
  const { app, adminToken, bucket, api, createModel, modelWithReleases } = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  async function cli (argv: string[], token = adminToken) {
    const captured = await captureIo(t, { env: { MODELPIN_API_URL: url, MODELPIN_TOKEN: token } })
    const code = await main(argv, captured.io)
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  }
  t.equal((await createModel('taken')).status, 201)
  const before = await api('GET', '/v1/models')
  const create = (name: string) => ['model', 'create', name, '--bucket', bucket, '--weights-key', 'k/model.onnx', '--labels-key', 'k/labels.txt']

  const exists = await cli(create('taken'))
  t.equal(exists.code, EXIT_CODES.conflict, 'a name taken already: 409')
  t.match(exists.stderr, /^error: model_exists: /)
  t.equal(exists.stdout, '')

  const badName = await cli(create('Not_A_Name'))
  t.equal(badName.code, EXIT_CODES.rejected, 'a name the API refuses: 400')
  t.match(badName.stderr, /^error: \w+: /)

  const missing = await cli(['model', 'update', 'no-such-model', '--deploy-alias', 'prod'])
  t.equal(missing.code, EXIT_CODES.notFound)

  const promoter = await api('POST', '/v1/tokens', { body: { name: 'ci', role: 'promoter' } })
  t.equal(promoter.status, 201)
  const forbidden = await cli(create('by-promoter'), promoter.body.token)
  t.equal(forbidden.code, EXIT_CODES.auth, 'registering a model takes an admin token')
  t.equal((await cli(['model', 'update', 'taken', '--deploy-alias', 'x'], promoter.body.token)).code, EXIT_CODES.auth)
  t.equal((await cli(['model', 'get', 'taken'], promoter.body.token)).code, EXIT_CODES.ok, 'a promoter may read')

  await modelWithReleases('released', 1)
  const moved = await cli(['model', 'update', 'released', '--weights-key', 'elsewhere/model.onnx'])
  t.equal(moved.code, EXIT_CODES.rejected, 'the keys of a model with releases are fixed')

  t.same((await api('GET', '/v1/models')).body.models.filter((m: any) => m.name !== 'released'), before.body.models,
    'no refused command changed a model')
})
