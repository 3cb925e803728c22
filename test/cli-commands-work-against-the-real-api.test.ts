import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import t from 'tap'
import { EXIT_CODES, main } from '../src/cli/main.js'
import { build } from './helpers/app.js'
import { captureIo, emptyDirectory } from './helpers/cli.js'

// The CLI against the real admin API (Fastify, SQLite, radosgw) listening on an ephemeral port, with a
// registry-only model: every command that needs no Lambda, and the exit codes scripts rely on.

t.test('the CLI uploads, lists versions, registers, promotes, rolls back and reads history through the API', async (t) => {
  const { app, adminToken, createModel } = await build(t)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  t.equal((await createModel('cli-model')).status, 201)
  const files = await emptyDirectory(t)

  async function cli (argv: string[], options: { token?: string, stderrIsTTY?: boolean } = {}) {
    const captured = await captureIo(t, {
      env: { MODELPIN_API_URL: url, MODELPIN_TOKEN: options.token ?? adminToken }, stderrIsTTY: options.stderrIsTTY,
    })
    const code = await main(argv, captured.io)
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  }
  async function cliJson (argv: string[], options: { token?: string } = {}): Promise<any> {
    const result = await cli([...argv, '--json'], options)
    t.equal(result.code, EXIT_CODES.ok, `${argv.join(' ')}: ${result.stderr}`)
    return JSON.parse(result.stdout)
  }
  async function upload (kind: 'weights' | 'labels', bytes: Buffer) {
    const file = path.join(files, `${kind}-${randomBytes(4).toString('hex')}`)
    await writeFile(file, bytes)
    return cliJson(['upload', 'cli-model', kind, file])
  }
  const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex')

  // upload: human output on a "terminal" (progress bar on stderr), then --json
  const weightsOne = randomBytes(300 * 1024)
  const weightsOneFile = path.join(files, 'weights-one.onnx')
  await writeFile(weightsOneFile, weightsOne)
  const human = await cli(['upload', 'cli-model', 'weights', weightsOneFile], { stderrIsTTY: true })
  t.equal(human.code, EXIT_CODES.ok, human.stderr)
  const firstVersionId = /^versionId: (\S+)$/m.exec(human.stdout)?.[1]
  t.ok(firstVersionId, 'the versionId is printed')
  t.match(human.stdout, new RegExp(`^sha256: +${sha256(weightsOne)}$`, 'm'))
  t.match(human.stdout, /^size: +307200 \(300\.0 KiB\)$/m)
  t.match(human.stderr, /100% {2}300\.0 KiB \/ 300\.0 KiB/)

  const weightsTwo = Buffer.from('second weights')
  const second = await upload('weights', weightsTwo)
  t.same(second, { versionId: second.versionId, size: weightsTwo.length, sha256: sha256(weightsTwo) })
  const labels = await upload('labels', Buffer.from('cat\ndog\n'))

  // versions: newest first, entries as uploaded
  const versions = await cliJson(['versions', 'cli-model', 'weights'])
  t.same(versions.versions.map((v: any) => v.versionId), [second.versionId, firstVersionId])
  t.match(versions.versions[0], { isLatest: true, size: weightsTwo.length, deleteMarker: false, sha256: sha256(weightsTwo) })
  t.match(versions.versions[1], { isLatest: false, size: weightsOne.length, sha256: sha256(weightsOne) })
  const paged = await cliJson(['versions', 'cli-model', 'weights', '--limit', '1', '--all'])
  t.same(paged, versions, '--all over pages of one gives the same list')
  const table = await cli(['versions', 'cli-model', 'weights'])
  t.match(table.stdout, new RegExp(`^VERSION ID +LATEST +LAST MODIFIED +SIZE +SHA256\\n${second.versionId} +yes `))

  // release, releases
  const one = await cliJson(['release', 'cli-model', '--weights', firstVersionId!, '--labels', labels.versionId, '--notes', 'first'])
  t.match(one, { number: 1, weightsVersionId: firstVersionId, labelsVersionId: labels.versionId, notes: 'first', weightsSha256: sha256(weightsOne) })
  const two = await cliJson(['release', 'cli-model', '--weights', second.versionId, '--labels', labels.versionId])
  t.equal(two.number, 2)
  const releases = await cliJson(['releases', 'cli-model'])
  t.same(releases.releases.map((r: any) => r.number).sort(), [1, 2])
  const releasesTable = await cli(['releases', 'cli-model'])
  t.match(releasesTable.stdout, /^RELEASE +CREATED/)
  t.match(releasesTable.stdout, /^ +1 .* first$/m)

  // promote (creates the alias), promote again with If-Match, alias
  const promoted = await cliJson(['promote', 'cli-model', 'production', '1', '--reason', 'first release'])
  t.match(promoted, { alias: 'production', release: 1, revision: 1 })
  const again = await cli(['promote', 'cli-model', 'production', '2', '--if-match', '"1"', '--reason', 'better'])
  t.equal(again.code, EXIT_CODES.ok, again.stderr)
  t.match(again.stdout, /^release: +2$/m)
  t.match(again.stdout, /^revision: +2$/m)
  const alias = await cliJson(['alias', 'cli-model', 'production'])
  t.match(alias, { alias: 'production', release: 2, revision: 2, canary: null, drift: false })
  const aliasText = await cli(['alias', 'cli-model', 'production'])
  t.match(aliasText.stdout, /^canary: +none$/m)
  t.match(aliasText.stdout, /^drift: +no$/m)

  // a stale If-Match: 412, exit 4, nothing moved
  const stale = await cli(['promote', 'cli-model', 'production', '1', '--if-match', '1'])
  t.equal(stale.code, EXIT_CODES.conflict)
  t.match(stale.stderr, /^error: revision_mismatch: /)
  t.equal((await cliJson(['alias', 'cli-model', 'production'])).release, 2)

  // rollback without --to returns to where the last move came from
  const rolledBack = await cliJson(['rollback', 'cli-model', 'production', '--reason', 'labels look wrong'])
  t.match(rolledBack, { release: 1, revision: 3 })

  // history: newest first, with actor and reason
  const history = await cliJson(['history', 'cli-model', 'production'])
  t.same(history.history.map((h: any) => [h.action, h.fromRelease, h.toRelease, h.outcome, h.reason]), [
    ['rollback', 2, 1, 'succeeded', 'labels look wrong'],
    ['promote', 1, 2, 'succeeded', 'better'],
    ['promote', null, 1, 'succeeded', 'first release'],
  ])
  t.ok(history.history.every((h: any) => typeof h.actor === 'string' && h.actor !== ''), 'each entry names its actor')
  t.same(await cliJson(['history', 'cli-model', 'production', '--limit', '1']), { history: [history.history[0]] })
  const historyTable = await cli(['history', 'cli-model', 'production'])
  t.match(historyTable.stdout, /^AT +ACTION +FROM +TO +OUTCOME +ACTOR +REASON +DETAIL\n\S+ +rollback +2 +1 +succeeded /)

  // token create, and a viewer who may read but not promote
  const viewer = await cliJson(['token', 'create', 'ci-viewer', '--role', 'viewer'])
  t.match(viewer, { name: 'ci-viewer', role: 'viewer', token: /\S+/ })
  t.equal((await cli(['alias', 'cli-model', 'production'], { token: viewer.token })).code, EXIT_CODES.ok)
  const denied = await cli(['promote', 'cli-model', 'production', '2'], { token: viewer.token })
  t.equal(denied.code, EXIT_CODES.auth)
  t.match(denied.stderr, /^error: forbidden: /)
  const unknownToken = await cli(['models'], { token: 'not-a-token' })
  t.equal(unknownToken.code, EXIT_CODES.auth)
  t.match(unknownToken.stderr, /^error: unauthorized: /)

  // whoami, token list and revoke; a token with an expiry
  t.same(await cliJson(['whoami'], { token: viewer.token }), { name: 'ci-viewer', role: 'viewer', expiresAt: null })
  t.match((await cli(['whoami'], { token: viewer.token })).stdout, /name: +ci-viewer\nrole: +viewer\nexpiresAt: +-/)
  const expiring = await cliJson(['token', 'create', 'ci-expiring', '--role', 'viewer', '--expires-in-days', '7'])
  t.match(expiring, { id: /^tok_/, name: 'ci-expiring', expiresAt: /^\d{4}-/ })
  const listed = await cliJson(['token', 'list'])
  t.same(listed.tokens.map((token: any) => token.name).sort(), ['admin', 'ci-expiring', 'ci-viewer'])
  t.notOk(JSON.stringify(listed).includes(viewer.token), 'the list holds no secret')
  t.match((await cli(['token', 'list'])).stdout, /^ID +NAME +ROLE +CREATED +EXPIRES +LAST USED +REVOKED\n/)
  t.equal((await cli(['token', 'create', 'ci-viewer', '--role', 'viewer'])).code, EXIT_CODES.conflict, 'a taken name exits 4')
  t.same(await cliJson(['token', 'revoke', viewer.id]), { revoked: viewer.id })
  t.equal((await cli(['whoami'], { token: viewer.token })).code, EXIT_CODES.auth, 'a revoked token exits 6')
  t.equal((await cli(['token', 'revoke', 'tok_nope'])).code, EXIT_CODES.notFound)
  const adminId = listed.tokens.find((token: any) => token.name === 'admin').id
  const bootstrap = await cli(['token', 'revoke', adminId])
  t.equal(bootstrap.code, EXIT_CODES.conflict)
  t.match(bootstrap.stderr, /^error: bootstrap_token: /)

  // an upload the API refuses before reading the body: its answer is reported, not a broken connection
  const bigFile = path.join(files, 'big.onnx')
  await writeFile(bigFile, Buffer.alloc(16 * 1024 * 1024, 1))
  const uploadDenied = await cli(['upload', 'cli-model', 'weights', bigFile], { token: expiring.token })
  t.equal(uploadDenied.code, EXIT_CODES.auth, uploadDenied.stderr)
  t.match(uploadDenied.stderr, /^error: forbidden: /)
  t.equal((await cliJson(['versions', 'cli-model', 'weights'])).versions.length, 2, 'no version was added')

  // not found, rejected
  const noModel = await cli(['model', 'no-such-model'])
  t.equal(noModel.code, EXIT_CODES.notFound)
  t.match(noModel.stderr, /^error: model_not_found: /)
  t.equal((await cli(['promote', 'no-such-model', 'production', '1'])).code, EXIT_CODES.notFound)
  t.equal((await cli(['alias', 'cli-model', 'staging'])).code, EXIT_CODES.notFound)
  const badVersion = await cli(['release', 'cli-model', '--weights', 'no-such-version', '--labels', labels.versionId])
  t.equal(badVersion.code, EXIT_CODES.rejected)
  t.match(badVersion.stderr, /^error: version_not_found: /)
  const unknownRelease = await cli(['promote', 'cli-model', 'production', '99'])
  t.equal(unknownRelease.code, EXIT_CODES.rejected)
  t.match(unknownRelease.stderr, /^error: unknown_release: /)

  // the API goes away: exit 7
  await app.close()
  const down = await cli(['models'])
  t.equal(down.code, EXIT_CODES.unavailable)
  t.match(down.stderr, /^error: unreachable: cannot reach the modelpin API at http:\/\/127\.0\.0\.1:\d+ \(from MODELPIN_API_URL\): .*ECONNREFUSED/)
})
