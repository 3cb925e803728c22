import t from 'tap'
import { parseCommandLine } from '../src/cli/command-line.js'
import { parseS3Image } from '../src/cli/commands/predict.js'

function run (argv: string[]): { name: string, args: unknown, global: unknown } {
  const parsed = parseCommandLine(argv)
  if (parsed.kind !== 'run') throw new Error(`expected a command to run, got ${parsed.kind}`)
  return { name: parsed.command.name, args: parsed.args, global: parsed.global }
}

t.test('each command turns its positionals and flags into typed arguments', async (t) => {
  t.same(run(['models']).args, {})
  t.same(run(['model', 'resnet50']).args, { model: 'resnet50' })
  t.same(run(['versions', 'resnet50', 'weights']).args,
    { model: 'resnet50', kind: 'weights', limit: undefined, cursor: undefined, all: false })
  t.same(run(['versions', 'resnet50', 'labels', '--limit', '2', '--all', '--cursor', 'abc']).args,
    { model: 'resnet50', kind: 'labels', limit: 2, cursor: 'abc', all: true })
  t.same(run(['upload', 'resnet50', 'weights', './model.onnx']).args,
    { model: 'resnet50', kind: 'weights', file: './model.onnx' })
  t.same(run(['release', 'resnet50', '--weights', 'w1', '--labels', 'l1', '--notes', 'first']).args,
    { model: 'resnet50', weightsVersionId: 'w1', labelsVersionId: 'l1', notes: 'first' })
  t.same(run(['releases', 'resnet50']).args, { model: 'resnet50' })
  t.same(run(['promote', 'resnet50', 'production', '2', '--reason', 'better', '--if-match', '"7"']).args,
    { model: 'resnet50', alias: 'production', release: 2, reason: 'better', ifMatch: 7 })
  t.same(run(['promote', 'resnet50', 'production', '2', '--if-match', '7']).args,
    { model: 'resnet50', alias: 'production', release: 2, reason: undefined, ifMatch: 7 })
  t.same(run(['rollback', 'resnet50', 'production']).args,
    { model: 'resnet50', alias: 'production', to: undefined, reason: undefined, ifMatch: undefined })
  t.same(run(['rollback', 'resnet50', 'production', '--to', '1', '--reason', 'bad labels', '--if-match', '3']).args,
    { model: 'resnet50', alias: 'production', to: 1, reason: 'bad labels', ifMatch: 3 })
  t.same(run(['history', 'resnet50', 'production', '--limit', '5']).args,
    { model: 'resnet50', alias: 'production', limit: 5 })
  t.same(run(['alias', 'resnet50', 'staging']).args, { model: 'resnet50', alias: 'staging' })
  t.same(run(['canary', 'resnet50', 'production', 'start', '2', '--weight', '0.25']).args,
    { model: 'resnet50', alias: 'production', action: 'start', release: 2, weight: 0.25, ifMatch: undefined })
  t.same(run(['canary', 'resnet50', 'production', 'start', '2', '--weight', '10%', '--if-match', '4']).args,
    { model: 'resnet50', alias: 'production', action: 'start', release: 2, weight: 0.1, ifMatch: 4 })
  t.same(run(['canary', 'resnet50', 'production', 'promote']).args,
    { model: 'resnet50', alias: 'production', action: 'promote', ifMatch: undefined })
  t.same(run(['canary', 'resnet50', 'production', 'abort', '--reason', 'errors up']).args,
    { model: 'resnet50', alias: 'production', action: 'abort', reason: 'errors up', ifMatch: undefined })
  t.same(run(['rollout', 'resnet50', 'production', 'start', '3', '--steps', '10%,50%', '--step', '5m', '--max-error-rate', '0.01',
    '--max-latency-ratio', '1.5', '--min-invocations', '100']).args,
  { model: 'resnet50', alias: 'production', action: 'start', release: 3, steps: [0.1, 0.5], stepSeconds: 300, criteria: { maxErrorRate: 0.01, maxLatencyRatio: 1.5, minInvocations: 100 }, reason: undefined, ifMatch: undefined })
  t.same(run(['rollout', 'resnet50', 'production', 'start', '3', '--steps', '0.2', '--step', '90']).args,
    { model: 'resnet50', alias: 'production', action: 'start', release: 3, steps: [0.2], stepSeconds: 90, criteria: {}, reason: undefined, ifMatch: undefined })
  t.same(run(['rollout', 'resnet50', 'production', 'status']).args,
    { model: 'resnet50', alias: 'production', action: 'status', id: undefined, reason: undefined, ifMatch: undefined })
  t.same(run(['rollout', 'resnet50', 'production', 'cancel', 'r-1', '--reason', 'later']).args,
    { model: 'resnet50', alias: 'production', action: 'cancel', id: 'r-1', reason: 'later', ifMatch: undefined })
  for (const bad of [['--steps', '10%,100%', '--step', '5m'], ['--steps', '10%'], ['--steps', '10%', '--step', '5 minutes'], ['--step', '5m']]) {
    t.throws(() => parseCommandLine(['rollout', 'resnet50', 'production', 'start', '3', ...bad]), { name: 'UsageError' }, bad.join(' '))
  }
  t.throws(() => parseCommandLine(['rollout', 'resnet50', 'production', 'status', '--steps', '10%']), { name: 'UsageError' }, 'start options on status')
  t.same(run(['predict', 'resnet50', '--file', 'cat.jpg', '--release', '1', '--top-k', '3']).args,
    { model: 'resnet50', image: { file: 'cat.jpg' }, release: 1, alias: undefined, topK: 3 })
  t.same(run(['predict', 'resnet50', '--s3', 'in/cats/a@b.jpg@v1', '--alias', 'staging']).args,
    { model: 'resnet50', image: { bucket: 'in', key: 'cats/a@b.jpg', versionId: 'v1' }, release: undefined, alias: 'staging', topK: undefined })
  t.same(run(['token', 'create', 'ci', '--role', 'promoter']).args, { action: 'create', name: 'ci', role: 'promoter' })
  t.same(run(['token', 'create', 'ci', '--role', 'viewer', '--expires-in-days', '30']).args, { action: 'create', name: 'ci', role: 'viewer', expiresInDays: 30 })
  t.same(run(['token', 'list']).args, { action: 'list' })
  t.same(run(['token', 'revoke', 'tok_abc']).args, { action: 'revoke', id: 'tok_abc' })
  t.same(run(['whoami']).args, {})
})

t.test('model create, update, list and get turn their flags into the API\'s fields', async (t) => {
  t.same(run(['model', 'get', 'resnet50']).args, { model: 'resnet50' })
  t.same(run(['model', 'list']).args, { action: 'list' })
  t.same(run(['model', 'create', 'resnet18', '--bucket', 'b', '--weights-key', 'r/model.onnx', '--labels-key', 'r/labels.txt']).args,
    { action: 'create', fields: { name: 'resnet18', bucket: 'b', weightsKey: 'r/model.onnx', labelsKey: 'r/labels.txt' } })
  t.same(run([
    'model', 'create', 'resnet18', '--bucket', 'b', '--weights-key', 'w', '--labels-key', 'l', '--function-name', 'f',
    '--function-alias', 'live', '--deploy-alias', 'prod', '--gate-image', 'in/gate/a.jpg', '--gate-image', 's3://in/b.jpg',
  ]).args, {
    action: 'create',
    fields: {
      name: 'resnet18',
      bucket: 'b',
      weightsKey: 'w',
      labelsKey: 'l',
      functionName: 'f',
      functionAlias: 'live',
      deployAlias: 'prod',
      gateImages: [{ bucket: 'in', key: 'gate/a.jpg' }, { bucket: 'in', key: 'b.jpg' }],
    },
  })
  t.same(run(['model', 'create', '--from', 'model.json', '--function-name', 'f']).args,
    { action: 'create', fields: { functionName: 'f' }, from: 'model.json' })
  t.same(run(['model', 'update', 'resnet18', '--deploy-alias', 'prod']).args,
    { action: 'update', model: 'resnet18', changes: { deployAlias: 'prod' } })
  t.same(run(['model', 'update', 'resnet18', '--registry-only', '--no-gate-images']).args,
    { action: 'update', model: 'resnet18', changes: { functionName: null, gateImages: [] } })
  t.same(run(['model', 'update', 'resnet18', '--function-alias', 'resnet18', '--if-match', '"3"']).args,
    { action: 'update', model: 'resnet18', changes: { functionAlias: 'resnet18' }, ifMatch: 3 })
  t.same(run(['model', 'update', 'resnet18', '--prewarm', '0']).args,
    { action: 'update', model: 'resnet18', changes: { prewarm: 0 } })
  for (const bad of ['51', '-1', '1.5', 'two']) {
    t.throws(() => parseCommandLine(['model', 'update', 'resnet18', '--prewarm', bad]), { name: 'UsageError' }, `--prewarm ${bad}`)
  }
})

t.test('global flags are read before or after the command', async (t) => {
  t.same(run(['--api', 'http://h:1', '--json', 'models', '--token', 'tok']).global,
    { api: 'http://h:1', token: 'tok', json: true })
  t.same(run(['models']).global, { api: undefined, token: undefined, json: false })
  // the value of --api is not mistaken for the command
  t.equal(run(['--api', 'releases', 'models']).name, 'models')
})

t.test('--help anywhere asks for usage, of the command when there is one', async (t) => {
  t.same(parseCommandLine(['--help']), { kind: 'help' })
  t.same(parseCommandLine(['-h']), { kind: 'help' })
  t.same(parseCommandLine(['help']), { kind: 'help' })
  const forPromote = parseCommandLine(['promote', '--help'])
  t.equal(forPromote.kind === 'help' && forPromote.command?.name, 'promote')
  // even when the rest of the line would be a usage error
  const withBadFlag = parseCommandLine(['promote', 'x', '--nope', '-h'])
  t.equal(withBadFlag.kind === 'help' && withBadFlag.command?.name, 'promote')
  const viaHelp = parseCommandLine(['help', 'canary'])
  t.equal(viaHelp.kind === 'help' && viaHelp.command?.name, 'canary')
})

t.test('an S3 image is split at the first slash and the last @', async (t) => {
  t.same(parseS3Image('bucket/key.jpg'), { bucket: 'bucket', key: 'key.jpg' })
  t.same(parseS3Image('s3://bucket/a/b.jpg@3sL4kqtJ'), { bucket: 'bucket', key: 'a/b.jpg', versionId: '3sL4kqtJ' })
  t.same(parseS3Image('bucket@x/key.jpg'), { bucket: 'bucket@x', key: 'key.jpg' })
  t.throws(() => parseS3Image('bucket'), { name: 'UsageError' })
  t.throws(() => parseS3Image('/key'), { name: 'UsageError' })
  t.throws(() => parseS3Image('bucket/'), { name: 'UsageError' })
  t.throws(() => parseS3Image('bucket/key@'), { name: 'UsageError' })
})

t.test('a VersionId that starts with a dash is a value, not a flag; a missing value is still reported', async (t) => {
  t.same(run(['release', 'resnet50', '--weights', '-dC9kQ1', '--labels', '--x-y']).args,
    { model: 'resnet50', weightsVersionId: '-dC9kQ1', labelsVersionId: '--x-y', notes: undefined })
  t.same(run(['promote', 'resnet50', 'production', '2', '--reason', '-3% errors']).args,
    run(['promote', 'resnet50', 'production', '2', '--reason=-3% errors']).args)
  t.throws(() => parseCommandLine(['release', 'resnet50', '--weights', '--labels', 'l1']), { name: 'UsageError' })
})
