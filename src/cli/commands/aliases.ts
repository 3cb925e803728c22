import {
  defineCommand, IF_MATCH_OPTION, ifMatchOption, oneOf, optionalPositiveInteger, positionals, positiveInteger,
  printResult, stringOption, type OptionSpec, type RawArguments,
} from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

const REASON_OPTION = { type: 'string', value: 'text', description: 'why, recorded in the history' } as const

/** An alias as people read it: the canary as one phrase, drift as yes/no, the rest as fields. */
export function formatAlias (body: unknown): string {
  const { canary, drift, ...rest } = asRecord(body) ?? {}
  const candidate = asRecord(canary)
  const fields: Record<string, unknown> = { ...rest }
  if (canary !== undefined) {
    fields.canary = candidate === undefined
      ? 'none'
      : `release ${String(candidate.release)} at ${typeof candidate.weight === 'number' ? `${Math.round(candidate.weight * 1000) / 10}%` : String(candidate.weight)}`
  }
  if (typeof drift === 'boolean') fields.drift = drift ? 'yes: Lambda serves something else than the registry says' : 'no'
  return formatFields(fields)
}

const FORCE_OPTION: OptionSpec = { type: 'boolean', description: 'skip the model\'s promotion policy (admin tokens only; recorded in the history)' }

/** `--force`, only when given: a request without it is the request it always was. */
function forceOption (raw: RawArguments): { force?: true } {
  return raw.values.force === true ? { force: true } : {}
}

export const promoteCommand = defineCommand({
  name: 'promote',
  synopsis: '<model> <alias> <release>',
  summary: 'point an alias at a release (creates the alias if new; the deploy alias also moves Lambda)',
  options: { reason: REASON_OPTION, 'if-match': IF_MATCH_OPTION, force: FORCE_OPTION },
  parse: (raw) => {
    const [model, alias, release] = positionals(raw, ['model', 'alias', 'release'])
    return {
      model: model!,
      alias: alias!,
      release: positiveInteger(release!, '<release>'),
      reason: stringOption(raw, 'reason'),
      ifMatch: ifMatchOption(raw),
      ...forceOption(raw),
    }
  },
  run: async (context, { model, alias, release, reason, ifMatch, force }: { model: string, alias: string, release: number, reason?: string | undefined, ifMatch?: number | undefined, force?: true }) => {
    const response = await context.client.send({
      method: 'POST', path: ['models', model, 'aliases', alias, 'promote'], json: { release, reason, force }, ifMatch,
    })
    printResult(context, response, formatAlias)
  },
})

export const rollbackCommand = defineCommand({
  name: 'rollback',
  synopsis: '<model> <alias>',
  summary: 'move an alias back: to --to, or to where its last move came from (two rollbacks toggle)',
  options: {
    to: { type: 'string', value: 'release', description: 'the release number to go back to' },
    reason: REASON_OPTION,
    'if-match': IF_MATCH_OPTION,
  },
  parse: (raw) => {
    const [model, alias] = positionals(raw, ['model', 'alias'])
    return {
      model: model!,
      alias: alias!,
      to: optionalPositiveInteger(raw, 'to'),
      reason: stringOption(raw, 'reason'),
      ifMatch: ifMatchOption(raw),
    }
  },
  run: async (context, { model, alias, to, reason, ifMatch }) => {
    const response = await context.client.send({
      method: 'POST', path: ['models', model, 'aliases', alias, 'rollback'], json: { to, reason }, ifMatch,
    })
    printResult(context, response, formatAlias)
  },
})

export const historyCommand = defineCommand({
  name: 'history',
  synopsis: '<model> <alias>',
  summary: 'the moves of an alias, newest first',
  options: { limit: { type: 'string', value: 'n', description: 'at most this many entries' } },
  parse: (raw) => {
    const [model, alias] = positionals(raw, ['model', 'alias'])
    return { model: model!, alias: alias!, limit: optionalPositiveInteger(raw, 'limit') }
  },
  run: async (context, { model, alias, limit }) => {
    const response = await context.client.send({
      method: 'GET', path: ['models', model, 'aliases', alias, 'history'], query: { limit },
    })
    printResult(context, response, (body) => formatTable([
      { header: 'AT', value: (h) => h.at },
      { header: 'ACTION', value: (h) => h.action },
      { header: 'FROM', value: (h) => h.fromRelease, align: 'right' },
      { header: 'TO', value: (h) => h.toRelease, align: 'right' },
      { header: 'OUTCOME', value: (h) => h.outcome },
      { header: 'ACTOR', value: (h) => h.actor },
      { header: 'REASON', value: (h) => h.reason },
      { header: 'DETAIL', value: (h) => h.detail },
    ], recordsIn(body, 'history').slice(0, limit)))
  },
})

export const aliasCommand = defineCommand({
  name: 'alias',
  synopsis: '<model> <alias>',
  summary: 'show an alias: its release and revision, what Lambda serves (live), drift and canary',
  options: {},
  parse: (raw) => {
    const [model, alias] = positionals(raw, ['model', 'alias'])
    return { model: model!, alias: alias! }
  },
  run: async (context, { model, alias }) => {
    const response = await context.client.send({ method: 'GET', path: ['models', model, 'aliases', alias] })
    printResult(context, response, formatAlias)
  },
})

const CANARY_ACTIONS = ['start', 'promote', 'abort'] as const

export type CanaryArgs =
  | { model: string, alias: string, action: 'start', release: number, weight: number, reason?: string, ifMatch?: number, force?: true }
  | { model: string, alias: string, action: 'promote' | 'abort', reason?: string, ifMatch?: number }

export const canaryCommand = defineCommand({
  name: 'canary',
  synopsis: '<model> <alias> start <release> --weight <w> | promote | abort',
  summary: 'send a share of an alias\'s traffic to a candidate release, then promote it or abort',
  details: 'start: route --weight (between 0 and 1, or a percentage such as 10%) of the alias\'s traffic to <release>.\n' +
    'promote: make the candidate the whole alias. abort: remove the canary, the alias keeps its release.',
  options: {
    weight: { type: 'string', value: 'w', description: 'the candidate\'s share of traffic, for start' },
    reason: REASON_OPTION,
    'if-match': IF_MATCH_OPTION,
    force: FORCE_OPTION,
  },
  parse: (raw): CanaryArgs => {
    const action = raw.positionals[2]
    if (action === undefined) positionals(raw, ['model', 'alias', 'start|promote|abort'])
    const ifMatch = ifMatchOption(raw)
    const reason = stringOption(raw, 'reason')
    if (oneOf(action!, CANARY_ACTIONS, 'the canary action') === 'start') {
      const [model, alias, , release] = positionals(raw, ['model', 'alias', 'action', 'release'])
      const weight = weightOption(raw)
      return {
        model: model!, alias: alias!, action: 'start', release: positiveInteger(release!, '<release>'), weight, reason, ifMatch, ...forceOption(raw),
      }
    }
    const [model, alias] = positionals(raw, ['model', 'alias', 'action'])
    if (raw.values.weight !== undefined) throw new UsageError(`--weight goes with canary start, not canary ${action!}`)
    if (raw.values.force !== undefined) throw new UsageError(`--force goes with canary start, not canary ${action!}`)
    return { model: model!, alias: alias!, action: action as 'promote' | 'abort', reason, ifMatch }
  },
  run: async (context, args) => {
    const path = ['models', args.model, 'aliases', args.alias, 'canary']
    const response = args.action === 'start'
      ? await context.client.send({
        method: 'POST', path, json: { release: args.release, weight: args.weight, reason: args.reason, force: args.force }, ifMatch: args.ifMatch,
      })
      : await context.client.send({
        method: args.action === 'promote' ? 'POST' : 'DELETE',
        path: args.action === 'promote' ? [...path, 'promote'] : path,
        json: { reason: args.reason },
        ifMatch: args.ifMatch,
      })
    printResult(context, response, formatAlias)
  },
})

function weightOption (raw: RawArguments): number {
  const text = stringOption(raw, 'weight')
  if (text === undefined) throw new UsageError('--weight <w> is required for canary start')
  const percent = text.endsWith('%')
  const number = Number(percent ? text.slice(0, -1) : text)
  const weight = percent ? number / 100 : number
  // 0 and 1 are not canaries: the first sends the candidate nothing, the second is a promotion
  if (text.trim() === '' || !Number.isFinite(weight) || weight <= 0 || weight >= 1) {
    throw new UsageError(`--weight must be between 0 and 1, both excluded (or a percentage), not ${JSON.stringify(text)}`)
  }
  return weight
}
