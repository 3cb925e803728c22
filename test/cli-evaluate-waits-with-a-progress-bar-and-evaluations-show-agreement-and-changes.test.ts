import t from 'tap'
import { parseCommandLine } from '../src/cli/command-line.js'
import { formatEvaluationProgress, sinceOption } from '../src/cli/commands/evaluations.js'
import { EXIT_CODES, main } from '../src/cli/main.js'
import { captureIo } from './helpers/cli.js'
import { startEndToEnd } from './helpers/e2e.js'

function args (argv: string[]): unknown {
  const parsed = parseCommandLine(argv)
  if (parsed.kind !== 'run') throw new Error(`expected a command to run, got ${parsed.kind}`)
  return parsed.args
}

t.test('evaluate, evaluations, evaluation and --force parse their arguments', async (t) => {
  const since = args(['evaluate', 'resnet50', '--candidate', '2', '--bucket', 'in', '--prefix', 'cats/', '--since', '1h', '--limit', '50', '--wait']) as Record<string, unknown>
  t.match(since, { model: 'resnet50', candidate: 2, baseline: undefined, bucket: 'in', prefix: 'cats/', limit: 50, wait: true })
  const ago = Date.now() - Date.parse(since.modifiedAfter as string)
  t.ok(ago >= 3_600_000 && ago < 3_660_000, '--since 1h is an hour before now')
  t.same(args(['evaluate', 'resnet50', '--candidate', '3', '--baseline', '1', '--bucket', 'in']), {
    model: 'resnet50', candidate: 3, baseline: 1, bucket: 'in', prefix: undefined, modifiedAfter: undefined, limit: undefined, reason: undefined, wait: false,
  })
  t.equal(sinceOption('30m', new Date('2026-01-01T12:00:00Z')), '2026-01-01T11:30:00.000Z')
  t.equal(sinceOption('2d', new Date('2026-01-03T12:00:00Z')), '2026-01-01T12:00:00.000Z')
  t.throws(() => sinceOption('1 hour', new Date()), /--since must be a duration/)
  t.same(args(['evaluations', 'resnet50']), { model: 'resnet50' })
  t.same(args(['evaluation', 'resnet50', 'abc']), { model: 'resnet50', id: 'abc' })
  t.same(args(['promote', 'resnet50', 'production', '2', '--force']), { model: 'resnet50', alias: 'production', release: 2, reason: undefined, ifMatch: undefined, force: true })
  t.match(args(['canary', 'resnet50', 'production', 'start', '2', '--weight', '0.1', '--force']), { action: 'start', force: true })
  t.equal(formatEvaluationProgress(42, 100), '[==========>             ]  42%  42/100 inputs')
  t.equal(formatEvaluationProgress(3, 3), '[========================] 100%  3/3 inputs')
  for (const bad of [['evaluate', 'm', '--bucket', 'in'], ['evaluate', 'm', '--candidate', '2'], ['evaluate', 'm', '--candidate', 'x', '--bucket', 'in'],
    ['evaluate', 'm', '--candidate', '2', '--bucket', 'in', '--since', 'soon'], ['evaluation', 'm'], ['canary', 'm', 'production', 'abort', '--force']]) {
    const captured = await captureIo(t)
    t.equal(await main([...bad, '--api', 'http://127.0.0.1:9', '--token', 'x'], captured.io), EXIT_CODES.usage, bad.join(' '))
  }
})

t.test('against the local stack: evaluate --wait draws its progress and prints the table of changes; --json is the API\'s body', async (t) => {
  const { stack, photos: { bucket } } = await startEndToEnd(t, { photos: { 'in/r1.jpg': 'red', 'in/r2.jpg': 'red', 'in/g.jpg': 'green' } })
  async function cli (argv: string[], options: { stderrIsTTY?: boolean } = {}) {
    const captured = await captureIo(t, options)
    const code = await main([...argv, '--api', stack.info.endpoints.api, '--token', stack.token], captured.io)
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  }

  const waited = await cli(['evaluate', 'resnet50', '--candidate', '2', '--bucket', bucket, '--prefix', 'in/', '--since', '1h', '--wait', '--reason', 'cli'], { stderrIsTTY: true })
  t.equal(waited.code, EXIT_CODES.ok, waited.stderr)
  t.match(waited.stderr, /\r\[[=> ]+\] +\d+% {2}\d\/3 inputs/, 'a progress bar on the terminal')
  t.match(waited.stderr, /100% {2}3\/3 inputs/, 'drawn to the end')
  t.match(waited.stdout, /status:\s+succeeded/)
  t.match(waited.stdout, /agreement top1:\s+0\.0%/)
  t.match(waited.stdout, /FROM \(BASELINE\)\s+TO \(CANDIDATE\)\s+COUNT/)
  t.match(waited.stdout, /tomato\s+Cucumis sativus\s+2\n/)
  t.match(waited.stdout, /cucumber\s+Vaccinium corymbosum\s+1\n/)

  const started = await cli(['evaluate', 'resnet50', '--candidate', '2', '--bucket', bucket, '--json'])
  t.equal(started.code, EXIT_CODES.ok, started.stderr)
  const body = JSON.parse(started.stdout)
  t.match(body, { status: 'running', candidate: 2, baseline: 1, inputs: { bucket, count: 3 } }, 'without --wait: the evaluation as started')

  const listed = await cli(['evaluations', 'resnet50', '--json'])
  t.equal(listed.code, EXIT_CODES.ok)
  t.equal(JSON.parse(listed.stdout).evaluations[0].id, body.id, 'newest first')
  const table = await cli(['evaluations', 'resnet50'])
  t.match(table.stdout, /ID\s+CANDIDATE\s+BASELINE\s+STATUS\s+DONE\s+TOP1\s+VERDICT\s+STARTED/)
  const one = await cli(['evaluation', 'resnet50', body.id, '--json'])
  t.equal(JSON.parse(one.stdout).id, body.id)
  const missing = await cli(['evaluation', 'resnet50', 'no-such-id'])
  t.equal(missing.code, EXIT_CODES.notFound)
  t.match(missing.stderr, /evaluation_not_found/)
  const noInputs = await cli(['evaluate', 'resnet50', '--candidate', '2', '--bucket', bucket, '--prefix', 'none/'])
  t.equal(noInputs.code, EXIT_CODES.rejected)
  t.match(noInputs.stderr, /no_inputs/)
})
