import t from 'tap'
import { EXIT_CODES, main } from '../src/cli/main.js'
import { captureIo, startRecordingServer } from './helpers/cli.js'

const BAD_COMMAND_LINES: Array<[string, string[]]> = [
  ['no command', []],
  ['an unknown command', ['deploy', 'resnet50']],
  ['an unknown flag', ['models', '--verbose']],
  ['a missing argument', ['model']],
  ['an extra argument', ['models', 'resnet50']],
  ['a kind that is neither weights nor labels', ['versions', 'resnet50', 'model']],
  ['a limit that is not a positive number', ['versions', 'resnet50', 'weights', '--limit', '0']],
  ['a negative limit', ['history', 'resnet50', 'production', '--limit', '-1']],
  ['a flag without its value', ['versions', 'resnet50', 'weights', '--limit']],
  ['an upload with no file', ['upload', 'resnet50', 'weights']],
  ['an upload of a file that does not exist', ['upload', 'resnet50', 'weights', '/nonexistent/model.onnx']],
  ['an upload of a folder', ['upload', 'resnet50', 'weights', '/']],
  ['a release without --labels', ['release', 'resnet50', '--weights', 'w1']],
  ['a release without --weights', ['release', 'resnet50', '--labels', 'l1']],
  ['a release number that is not a number', ['promote', 'resnet50', 'production', 'latest']],
  ['an If-Match that is not a revision', ['promote', 'resnet50', 'production', '2', '--if-match', 'abc']],
  ['a rollback target that is not a number', ['rollback', 'resnet50', 'production', '--to', 'one']],
  ['a canary without its action', ['canary', 'resnet50', 'production']],
  ['an unknown canary action', ['canary', 'resnet50', 'production', 'pause']],
  ['a canary start without --weight', ['canary', 'resnet50', 'production', 'start', '2']],
  ['a canary start without a release', ['canary', 'resnet50', 'production', 'start', '--weight', '0.1']],
  ['a canary weight above 1', ['canary', 'resnet50', 'production', 'start', '2', '--weight', '1.5']],
  ['a canary weight of 1 (a promotion, not a canary)', ['canary', 'resnet50', 'production', 'start', '2', '--weight', '1']],
  ['a canary weight of 0%', ['canary', 'resnet50', 'production', 'start', '2', '--weight', '0%']],
  ['a canary weight that is not a number', ['canary', 'resnet50', 'production', 'start', '2', '--weight', 'half']],
  ['a weight given to canary abort', ['canary', 'resnet50', 'production', 'abort', '--weight', '0.1']],
  ['a predict without an image', ['predict', 'resnet50']],
  ['a predict with two images', ['predict', 'resnet50', '--file', 'a.jpg', '--s3', 'b/c.jpg']],
  ['a predict with both --release and --alias', ['predict', 'resnet50', '--s3', 'b/c.jpg', '--release', '1', '--alias', 'x']],
  ['a predict of a file that does not exist', ['predict', 'resnet50', '--file', '/nonexistent/cat.jpg']],
  ['a malformed S3 image', ['predict', 'resnet50', '--s3', 'just-a-bucket']],
  ['a zero top-k', ['predict', 'resnet50', '--s3', 'b/c.jpg', '--top-k', '0']],
  ['a token without a role', ['token', 'create', 'ci']],
  ['a token with an unknown role', ['token', 'create', 'ci', '--role', 'root']],
  ['a token action other than create', ['token', 'delete', 'ci']],
  ['an empty model name', ['model', '']],
  ['a model create without --bucket', ['model', 'create', 'm', '--weights-key', 'w', '--labels-key', 'l']],
  ['a model create without a name', ['model', 'create', '--bucket', 'b', '--weights-key', 'w', '--labels-key', 'l']],
  ['a model create with an update flag', ['model', 'create', 'm', '--bucket', 'b', '--weights-key', 'w', '--labels-key', 'l', '--registry-only']],
  ['a model create --from a file that does not exist', ['model', 'create', '--from', '/nonexistent/model.json']],
  ['a model update that changes nothing', ['model', 'update', 'm']],
  ['a model update with a function and --registry-only', ['model', 'update', 'm', '--function-name', 'f', '--registry-only']],
  ['a model update with gate images and --no-gate-images', ['model', 'update', 'm', '--gate-image', 'b/k', '--no-gate-images']],
  ['a gate image without a key', ['model', 'update', 'm', '--gate-image', 'just-a-bucket']],
  ['a model get with a field flag', ['model', 'get', 'm', '--bucket', 'b']],
  ['a model create with --if-match', ['model', 'create', 'm', '--bucket', 'b', '--weights-key', 'w', '--labels-key', 'l', '--if-match', '1']],
  ['a model update with an --if-match that is not a version', ['model', 'update', 'm', '--deploy-alias', 'x', '--if-match', 'abc']],
  ['a model get with --if-match', ['model', 'get', 'm', '--if-match', '1']],
  ['a model list with an argument', ['model', 'list', 'm']],
  ['a model name a URL path cannot carry', ['model', 'get', '..']],
  ['an --api that is not a URL', ['models', '--api', 'localhost:3000']],
  ['an --api that is not http', ['models', '--api', 'ftp://example.com']],
]

t.test('every usage error exits 2, says what is wrong, and sends nothing', async (t) => {
  const server = await startRecordingServer(t)
  for (const [what, argv] of BAD_COMMAND_LINES) {
    const captured = await captureIo(t, { env: { MODELPIN_API_URL: server.url, MODELPIN_TOKEN: 'tok' } })
    const code = await main(argv, captured.io)
    t.equal(code, EXIT_CODES.usage, `${what}: exit code`)
    t.match(captured.stderr(), /^error: usage: .+ \(see modelpin( \w+)? --help\)\n$/, `${what}: message`)
    t.equal(captured.stdout(), '', `${what}: nothing on stdout`)
  }
  t.equal(server.requests.length, 0, 'no request reached the API')
})

t.test('a MODELPIN_API_URL that is not a URL is a usage error naming the variable', async (t) => {
  const captured = await captureIo(t, { env: { MODELPIN_API_URL: 'not a url' } })
  t.equal(await main(['models'], captured.io), EXIT_CODES.usage)
  t.match(captured.stderr(), 'MODELPIN_API_URL is not a URL')
})

t.test('--help prints usage on stdout and exits 0, listing every exit code', async (t) => {
  const captured = await captureIo(t)
  t.equal(await main(['--help'], captured.io), EXIT_CODES.ok)
  for (const code of Object.values(EXIT_CODES)) t.match(captured.stdout(), new RegExp(`^  ${code}  \\S`, 'm'))
  for (const command of ['versions', 'upload', 'release', 'promote', 'rollback', 'history', 'canary', 'predict', 'token']) {
    t.match(captured.stdout(), new RegExp(`^  ${command} `, 'm'), `lists ${command}`)
  }
  t.equal(captured.stderr(), '')

  const forCanary = await captureIo(t)
  t.equal(await main(['canary', '--help'], forCanary.io), EXIT_CODES.ok)
  t.match(forCanary.stdout(), /^usage: modelpin canary <model> <alias> start <release> --weight <w> \| promote \| abort/)
  t.match(forCanary.stdout(), '--if-match <rev>')
})
