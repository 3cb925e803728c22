import { setTimeout as sleep } from 'node:timers/promises'
import {
  defineCommand, IF_MATCH_OPTION, ifMatchOption, oneOf, optionalPositiveInteger, positionals, positiveInteger,
  printResult, stringOption, type CommandContext, type RawArguments,
} from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

const ROLLOUT_ACTIONS = ['start', 'status', 'cancel'] as const
/** How often `status` reads a running rollout again on a terminal. */
const REFRESH_MS = 2000

export type RolloutArgs =
  | {
    model: string,
    alias: string,
    action: 'start',
    release: number,
    steps: number[],
    stepSeconds: number,
    criteria: { maxErrorRate?: number, maxLatencyRatio?: number, minInvocations?: number },
    reason?: string,
    ifMatch?: number
  }
  | { model: string, alias: string, action: 'status' | 'cancel', id?: string, reason?: string, ifMatch?: number }

export const rolloutCommand = defineCommand({
  name: 'rollout',
  synopsis: '<model> <alias> start <release> --steps 10%,50% --step 5m | status [id] | cancel [id]',
  summary: 'canary steps that promote or roll back by themselves, judged on Lambda\'s metrics',
  details: 'start: a canary at the first weight now, then after each --step the next weight, and the promote after\n' +
    'the last, unless a criterion fails (the canary is then aborted). status: the rollout and its observations\n' +
    '(the newest rollout without [id]), refreshed while it runs on a terminal. cancel: abort its canary.',
  options: {
    steps: { type: 'string', value: 'w,w,...', description: 'increasing canary weights (0.1 or 10%), for start' },
    step: { type: 'string', value: 'duration', description: 'length of each step: 90s, 5m, 1h (or seconds), for start' },
    'max-error-rate': { type: 'string', value: 'r', description: 'candidate errors / invocations at most this (0 to 1)' },
    'max-latency-ratio': { type: 'string', value: 'x', description: 'candidate p95 / stable p95 at most this' },
    'min-invocations': { type: 'string', value: 'n', description: 'candidate invocations a step needs (default 20)' },
    reason: { type: 'string', value: 'text', description: 'why, recorded in the history' },
    'if-match': IF_MATCH_OPTION,
  },
  parse: (raw): RolloutArgs => {
    const action = raw.positionals[2]
    if (action === undefined) positionals(raw, ['model', 'alias', 'start|status|cancel'])
    const reason = stringOption(raw, 'reason')
    const ifMatch = ifMatchOption(raw)
    if (oneOf(action!, ROLLOUT_ACTIONS, 'the rollout action') === 'start') {
      const [model, alias, , release] = positionals(raw, ['model', 'alias', 'action', 'release'])
      const criteria: { maxErrorRate?: number, maxLatencyRatio?: number, minInvocations?: number } = {}
      const rate = numberOption(raw, 'max-error-rate')
      if (rate !== undefined) criteria.maxErrorRate = rate
      const ratio = numberOption(raw, 'max-latency-ratio')
      if (ratio !== undefined) criteria.maxLatencyRatio = ratio
      const min = optionalPositiveInteger(raw, 'min-invocations')
      if (min !== undefined) criteria.minInvocations = min
      return {
        model: model!,
        alias: alias!,
        action: 'start',
        release: positiveInteger(release!, '<release>'),
        steps: stepsOption(raw),
        stepSeconds: durationOption(raw),
        criteria,
        reason,
        ifMatch,
      }
    }
    for (const name of ['steps', 'step', 'max-error-rate', 'max-latency-ratio', 'min-invocations']) {
      if (raw.values[name] !== undefined) throw new UsageError(`--${name} goes with rollout start, not rollout ${action!}`)
    }
    const [model, alias, , id] = positionals(raw, ['model', 'alias', 'action'], ['id'])
    return { model: model!, alias: alias!, action: action as 'status' | 'cancel', id, reason, ifMatch }
  },
  run: async (context, args) => {
    const path = ['models', args.model, 'aliases', args.alias, 'rollouts']
    if (args.action === 'start') {
      const response = await context.client.send({
        method: 'POST', path, json: { release: args.release, steps: args.steps, stepSeconds: args.stepSeconds, criteria: args.criteria, reason: args.reason }, ifMatch: args.ifMatch,
      })
      printResult(context, response, formatRollout)
      return
    }
    const id = args.id ?? await newestRolloutId(context, path)
    if (args.action === 'cancel') {
      const response = await context.client.send({ method: 'DELETE', path: [...path, id], json: { reason: args.reason }, ifMatch: args.ifMatch })
      printResult(context, response, formatRollout)
      return
    }
    let response = await context.client.send({ method: 'GET', path: [...path, id] })
    printResult(context, response, formatRollout)
    if (context.json || context.io.stdout.isTTY !== true) return
    // on a terminal: follow it, printing each new observation and the end
    let seen = recordsIn(response.body, 'observations').length
    while (asRecord(response.body)?.status === 'running') {
      await sleep(REFRESH_MS)
      response = await context.client.send({ method: 'GET', path: [...path, id] })
      const observations = recordsIn(response.body, 'observations')
      if (observations.length > seen) context.io.stdout.write(observationTable(observations.slice(seen)).split('\n').slice(1).join('\n'))
      seen = observations.length
    }
    const ended = asRecord(response.body) ?? {}
    context.io.stdout.write(`ended ${String(ended.status)}${typeof ended.failure === 'string' ? `: ${ended.failure}` : ''}\n`)
  },
})

async function newestRolloutId (context: CommandContext, path: string[]): Promise<string> {
  const listed = recordsIn((await context.client.send({ method: 'GET', path })).body, 'rollouts')
  const id = listed[0]?.id
  if (typeof id !== 'string') throw new UsageError(`${path[1]!}/${path[3]!} has no rollout yet`)
  return id
}

/** A rollout as people read it: its fields, then its observations as a table. */
export function formatRollout (body: unknown): string {
  const { observations, steps, criteria, ...rest } = asRecord(body) ?? {}
  const fields: Record<string, unknown> = { ...rest }
  if (Array.isArray(steps)) fields.steps = steps.map((w) => typeof w === 'number' ? `${Math.round(w * 1000) / 10}%` : String(w)).join(', ')
  const limits = asRecord(criteria)
  if (limits !== undefined) {
    fields.criteria = Object.entries(limits).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k} ${String(v)}`).join(', ')
  }
  const rows = recordsIn({ observations }, 'observations')
  return formatFields(fields) + (rows.length === 0 ? 'no observation yet\n' : observationTable(rows))
}

function observationTable (rows: Array<Record<string, unknown>>): string {
  const side = (row: Record<string, unknown>, name: string): Record<string, unknown> => asRecord(row[name]) ?? {}
  const ms = (value: unknown): string => typeof value === 'number' ? `${Math.round(value)} ms` : '-'
  return formatTable([
    { header: 'STEP', value: (o) => typeof o.step === 'number' ? o.step + 1 : o.step, align: 'right' },
    { header: 'WEIGHT', value: (o) => typeof o.weight === 'number' ? `${Math.round(o.weight * 1000) / 10}%` : o.weight, align: 'right' },
    { header: 'CAND INV', value: (o) => side(o, 'candidate').invocations, align: 'right' },
    { header: 'CAND ERR', value: (o) => side(o, 'candidate').errors, align: 'right' },
    { header: 'CAND P95', value: (o) => ms(side(o, 'candidate').p95Ms), align: 'right' },
    { header: 'STABLE INV', value: (o) => side(o, 'stable').invocations, align: 'right' },
    { header: 'STABLE ERR', value: (o) => side(o, 'stable').errors, align: 'right' },
    { header: 'STABLE P95', value: (o) => ms(side(o, 'stable').p95Ms), align: 'right' },
    { header: 'PASSED', value: (o) => o.passed === true ? 'yes' : 'no' },
    { header: 'VIOLATIONS', value: (o) => Array.isArray(o.violations) ? o.violations.join('; ') : o.violations },
  ], rows)
}

function stepsOption (raw: RawArguments): number[] {
  const text = stringOption(raw, 'steps')
  if (text === undefined) throw new UsageError('--steps <w,w,...> is required for rollout start')
  return text.split(',').map((part) => {
    const trimmed = part.trim()
    const percent = trimmed.endsWith('%')
    const number = Number(percent ? trimmed.slice(0, -1) : trimmed)
    const weight = percent ? number / 100 : number
    if (trimmed === '' || !Number.isFinite(weight) || weight <= 0 || weight >= 1) {
      throw new UsageError(`--steps takes weights between 0 and 1, both excluded (or percentages), not ${JSON.stringify(part)}`)
    }
    return weight
  })
}

function durationOption (raw: RawArguments): number {
  const text = stringOption(raw, 'step')
  if (text === undefined) throw new UsageError('--step <duration> is required for rollout start')
  const match = /^(\d+)(s|m|h)?$/.exec(text.trim())
  if (match === null) throw new UsageError(`--step must be a duration such as 30s, 5m or 1h, not ${JSON.stringify(text)}`)
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h' | undefined ?? 's'])
}

function numberOption (raw: RawArguments, name: string): number | undefined {
  const text = stringOption(raw, name)
  if (text === undefined) return undefined
  const number = Number(text)
  if (text.trim() === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`--${name} must be a number, not ${JSON.stringify(text)}`)
  return number
}
