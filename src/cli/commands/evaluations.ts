import { setTimeout as sleep } from 'node:timers/promises'
import { booleanOption, defineCommand, optionalPositiveInteger, positionals, printResult, stringOption, type CommandContext } from '../command.js'
import { OutcomeError, UsageError } from '../errors.js'
import { EXIT_CODES } from '../exit-codes.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

export interface EvaluateArgs {
  model: string
  candidate: number
  baseline?: number
  bucket: string
  prefix?: string
  /** ISO time: only inputs modified after it (from --since) */
  modifiedAfter?: string
  limit?: number
  reason?: string
  wait: boolean
}

/** How often `evaluate --wait` reads the evaluation. */
const POLL_MS = 500
const BAR_WIDTH = 24
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `--since 1h`: a whole number and a unit (s, m, h, d), as the time that long before `now`. */
export function sinceOption (text: string, now: Date): string {
  const match = /^([0-9]+)([smhd])$/.exec(text)
  if (match === null || Number(match[1]) < 1) throw new UsageError(`--since must be a duration such as 30m, 1h or 2d, not ${JSON.stringify(text)}`)
  return new Date(now.getTime() - Number(match[1]) * UNIT_MS[match[2]!]!).toISOString()
}

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  synopsis: '<model> --candidate <n> --bucket <bucket>',
  summary: 'compare a candidate release with the baseline on the most recent objects of a bucket',
  details: 'Without --baseline the release the deploy alias serves is the baseline. It runs in the API\'s background: ' +
    'without --wait the command prints the evaluation as started; with --wait it shows a progress bar on a terminal and ' +
    'prints the result (exit 7 if the evaluation failed).',
  options: {
    candidate: { type: 'string', value: 'n', description: 'the release to evaluate' },
    baseline: { type: 'string', value: 'n', description: 'the release to compare it with (default: what the deploy alias serves)' },
    bucket: { type: 'string', value: 'bucket', description: 'where the inputs are' },
    prefix: { type: 'string', value: 'prefix', description: 'only keys under this prefix' },
    since: { type: 'string', value: 'duration', description: 'only objects modified within it, e.g. 1h, 30m, 2d' },
    limit: { type: 'string', value: 'n', description: 'the most recently modified objects taken (default 100, at most 1000)' },
    reason: { type: 'string', value: 'text', description: 'why; recorded with the evaluation' },
    wait: { type: 'boolean', description: 'wait until it ends, with a progress bar' },
  },
  parse: (raw): EvaluateArgs => {
    const [model] = positionals(raw, ['model'])
    const candidate = optionalPositiveInteger(raw, 'candidate')
    if (candidate === undefined) throw new UsageError('--candidate <n> is required')
    const bucket = stringOption(raw, 'bucket')
    if (bucket === undefined) throw new UsageError('--bucket <bucket> is required')
    const since = stringOption(raw, 'since')
    return {
      model: model!,
      candidate,
      baseline: optionalPositiveInteger(raw, 'baseline'),
      bucket,
      prefix: stringOption(raw, 'prefix'),
      modifiedAfter: since === undefined ? undefined : sinceOption(since, new Date()),
      limit: optionalPositiveInteger(raw, 'limit'),
      reason: stringOption(raw, 'reason'),
      wait: booleanOption(raw, 'wait'),
    }
  },
  run: async (context, args) => {
    const { model, candidate, baseline, bucket, prefix, modifiedAfter, limit, reason } = args
    const started = await context.client.send({
      method: 'POST',
      path: ['models', model, 'evaluations'],
      json: { candidate, baseline, inputs: { bucket, prefix, modifiedAfter, limit }, reason },
    })
    if (!args.wait) {
      printResult(context, started, formatEvaluation)
      return
    }
    const id = String(asRecord(started.body)?.id)
    let response = started
    for (;;) {
      const body = asRecord(response.body) ?? {}
      drawProgress(context, body)
      if (body.status !== 'running') break
      await sleep(POLL_MS)
      response = await context.client.send({ method: 'GET', path: ['models', model, 'evaluations', id] })
    }
    if (context.io.stderr.isTTY === true) context.io.stderr.write('\n')
    printResult(context, response, formatEvaluation)
    const body = asRecord(response.body) ?? {}
    if (body.status === 'failed') throw new OutcomeError(`evaluation ${id} failed: ${String(body.failure)}`, EXIT_CODES.unavailable)
  },
})

/** The progress line on stderr (a terminal only): `[=====>      ]  42%  42/100 inputs`. */
function drawProgress (context: CommandContext, body: Record<string, unknown>): void {
  if (context.io.stderr.isTTY !== true) return
  const completed = typeof body.completed === 'number' ? body.completed : 0
  const total = typeof asRecord(body.inputs)?.count === 'number' ? asRecord(body.inputs)!.count as number : 0
  context.io.stderr.write(`\r${formatEvaluationProgress(completed, total)}\x1b[K`)
}

/** One line of the evaluation progress bar. */
export function formatEvaluationProgress (completed: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, completed / total) : 1
  const filled = Math.floor(fraction * BAR_WIDTH)
  const bar = '='.repeat(filled) + (filled < BAR_WIDTH ? '>' + ' '.repeat(BAR_WIDTH - filled - 1) : '')
  return `[${bar}] ${`${Math.floor(fraction * 100)}%`.padStart(4)}  ${completed}/${total} inputs`
}

export const evaluationsCommand = defineCommand({
  name: 'evaluations',
  synopsis: '<model>',
  summary: 'list a model\'s evaluations, newest first',
  options: {},
  parse: (raw) => {
    const [model] = positionals(raw, ['model'])
    return { model: model! }
  },
  run: async (context, { model }) => {
    const response = await context.client.send({ method: 'GET', path: ['models', model, 'evaluations'] })
    printResult(context, response, (body) => formatTable([
      { header: 'ID', value: (e) => e.id },
      { header: 'CANDIDATE', value: (e) => e.candidate, align: 'right' },
      { header: 'BASELINE', value: (e) => e.baseline, align: 'right' },
      { header: 'STATUS', value: (e) => e.status },
      { header: 'DONE', value: (e) => `${String(e.completed)}/${String(asRecord(e.inputs)?.count)}`, align: 'right' },
      { header: 'TOP1', value: (e) => share(asRecord(e.agreement)?.top1), align: 'right' },
      { header: 'VERDICT', value: (e) => verdictText(e.verdict) },
      { header: 'STARTED', value: (e) => e.startedAt },
    ], recordsIn(body, 'evaluations')))
  },
})

export const evaluationCommand = defineCommand({
  name: 'evaluation',
  synopsis: '<model> <id>',
  summary: 'show one evaluation: its agreement, errors, latency and the table of changes',
  options: {},
  parse: (raw) => {
    const [model, id] = positionals(raw, ['model', 'id'])
    return { model: model!, id: id! }
  },
  run: async (context, { model, id }) => {
    const response = await context.client.send({ method: 'GET', path: ['models', model, 'evaluations', id] })
    printResult(context, response, formatEvaluation)
  },
})

/** An evaluation for people: its fields, then the table of changes. */
export function formatEvaluation (body: unknown): string {
  const e = asRecord(body) ?? {}
  const agreement = asRecord(e.agreement)
  const errors = asRecord(e.errors)
  const latency = asRecord(e.latencyMs)
  const inputs = asRecord(e.inputs)
  const fields = formatFields({
    id: e.id,
    model: e.model,
    candidate: e.candidate,
    baseline: e.baseline,
    status: e.status,
    ...(e.failure === null || e.failure === undefined ? {} : { failure: e.failure }),
    inputs: inputs === undefined ? undefined : `${String(e.completed)}/${String(inputs.count)} done from s3://${String(inputs.bucket)}/${String(inputs.prefix)}`,
    'agreement top1': share(agreement?.top1),
    'agreement top5': share(agreement?.top5Overlap),
    errors: errors === undefined ? undefined : `candidate ${String(errors.candidate)}, baseline ${String(errors.baseline)}`,
    'latency p50/p95': latency === undefined ? undefined : `candidate ${latencyText(latency.candidate)}, baseline ${latencyText(latency.baseline)}`,
    verdict: verdictText(e.verdict),
    reason: e.reason,
    actor: e.actor,
    startedAt: e.startedAt,
    finishedAt: e.finishedAt,
  })
  const changes = recordsIn(e, 'changes')
  if (changes.length === 0) return fields + '\nno top-1 changes\n'
  return fields + '\n' + formatTable([
    { header: 'FROM (BASELINE)', value: (c) => c.from },
    { header: 'TO (CANDIDATE)', value: (c) => c.to },
    { header: 'COUNT', value: (c) => c.count, align: 'right' },
  ], changes)
}

function share (value: unknown): string {
  return typeof value === 'number' ? `${(value * 100).toFixed(1)}%` : '-'
}

function latencyText (value: unknown): string {
  const l = asRecord(value)
  return l === undefined ? '-' : `${Number(l.p50).toFixed(1)}/${Number(l.p95).toFixed(1)} ms`
}

function verdictText (value: unknown): string {
  const v = asRecord(value)
  if (v === undefined) return '-'
  const violations = Array.isArray(v.violations) ? v.violations.map(String) : []
  return v.passed === true ? 'passed' : `failed: ${violations.join('; ')}`
}
