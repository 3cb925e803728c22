import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Command, RawArguments } from './command.js'
import { COMMANDS } from './commands/index.js'
import { UsageError } from './errors.js'
import type { GlobalFlags } from './settings.js'

export const GLOBAL_OPTIONS = {
  api: { type: 'string', value: 'url', description: 'the admin API (else MODELPIN_API_URL, else .modelpin/stack.json, else http://127.0.0.1:3000)' },
  token: { type: 'string', value: 'token', description: 'the bearer token (else MODELPIN_TOKEN, else .modelpin/admin-token)' },
  json: { type: 'boolean', description: 'print exactly the API\'s JSON body on stdout, for scripts' },
  help: { type: 'boolean', description: 'print usage' },
} as const

export interface GlobalOptions extends GlobalFlags {
  json: boolean
}

export type CommandLine =
  | { kind: 'help', command?: Command<unknown> }
  | { kind: 'run', command: Command<unknown>, args: unknown, global: GlobalOptions }

/**
 * Splits argv into the command, its arguments and the global flags, and checks them all: anything wrong throws
 * `UsageError` here, before a request could be sent. Global flags may come before or after the command.
 */
export function parseCommandLine (argv: readonly string[]): CommandLine {
  // First pass: find the command, the first positional that is not the value of a global flag.
  const { tokens } = parseArgs({
    args: [...argv], options: toParseArgsOptions(GLOBAL_OPTIONS), strict: false, allowPositionals: true, tokens: true,
  })
  const commandToken = tokens.find((token) => token.kind === 'positional')
  const wantsHelp = tokens.some((token) => token.kind === 'option' && token.name === 'help')
  if (commandToken === undefined) {
    if (wantsHelp) return { kind: 'help' }
    throw new UsageError('no command given')
  }
  let name = commandToken.value
  const rest = argv.filter((_, i) => i !== commandToken.index)
  if (name === 'help') {
    const topic = rest.find((arg) => !arg.startsWith('-'))
    if (topic === undefined) return { kind: 'help' }
    name = topic
    return { kind: 'help', command: findCommand(name) }
  }
  const command = findCommand(name)

  let raw: RawArguments
  try {
    const options = { ...GLOBAL_OPTIONS, ...command.options }
    const parsed = parseArgs({
      args: attachDashValues(rest, options),
      options: { ...toParseArgsOptions(GLOBAL_OPTIONS), ...toParseArgsOptions(command.options) },
      strict: true,
      allowPositionals: true,
    })
    raw = { positionals: parsed.positionals, values: parsed.values as RawArguments['values'] }
  } catch (error) {
    if (wantsHelp) return { kind: 'help', command }
    throw new UsageError(parseArgsMessage(error), command.name)
  }
  if (raw.values.help === true) return { kind: 'help', command }

  let args: unknown
  try {
    args = command.parse(raw)
  } catch (error) {
    if (error instanceof UsageError && error.command === undefined) throw new UsageError(error.message, command.name)
    throw error
  }
  const global: GlobalOptions = {
    api: typeof raw.values.api === 'string' ? raw.values.api : undefined,
    token: typeof raw.values.token === 'string' ? raw.values.token : undefined,
    json: raw.values.json === true,
  }
  return { kind: 'run', command, args, global }
}

function findCommand (name: string): Command<unknown> {
  const command = COMMANDS.find((candidate) => candidate.name === name)
  if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`)
  return command
}

/**
 * S3 VersionIds may start with "-" (radosgw's do, now and then), and util.parseArgs refuses `--weights -abc` as
 * ambiguous. The value of a string option is taken as given unless it is itself one of the command's options, so
 * `--weights -abc` becomes `--weights=-abc` while `--weights --labels x` still reports the missing value.
 */
export function attachDashValues (args: readonly string[], options: Record<string, { type: 'string' | 'boolean' }>): string[] {
  const isOption = (arg: string): boolean => arg === '-h' || (arg.startsWith('--') && arg.slice(2).split('=')[0]! in options)
  const out: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const next = args[i + 1]
    if (arg === '--') { out.push(...args.slice(i)); break }
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && next.startsWith('-') && !isOption(next)) {
      out.push(`${arg}=${next}`)
      i++
    } else {
      out.push(arg)
    }
  }
  return out
}

function toParseArgsOptions (
  options: Record<string, { type: 'string' | 'boolean', multiple?: boolean }>
): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(Object.entries(options).map(([name, option]) => [
    name, {
      type: option.type,
      ...(name === 'help' ? { short: 'h' } : {}),
      ...(option.multiple === true ? { multiple: true } : {}),
    },
  ]))
}

// util.parseArgs explains itself well but at length ("... To specify an option argument starting with a dash use
// --limit=-XYZ."); keep its first sentence.
function parseArgsMessage (error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(/^(.*?\.)\s.*$/s, '$1').replace(/\.$/, '')
}
