import type { AdminApiClient, AdminApiResponse } from '../client/admin-api.js'
import { UsageError } from './errors.js'

/** What `main` is given: the process's streams and surroundings, passed in so tests can run it in-process. */
export interface CliIo {
  stdout: { write: (text: string) => unknown, isTTY?: boolean }
  stderr: { write: (text: string) => unknown, isTTY?: boolean }
  env: Record<string, string | undefined>
  cwd: string
}

export interface CommandContext {
  client: AdminApiClient
  io: CliIo
  /** `--json`: stdout carries exactly the API's JSON body and nothing else */
  json: boolean
}

export interface OptionSpec {
  type: 'string' | 'boolean'
  /** may be given more than once; its value is then the list of every value given */
  multiple?: boolean
  /** the placeholder in the help text: `--limit <n>` */
  value?: string
  description: string
}

/** A command's positionals and option values after util.parseArgs, before the command checks them. */
export interface RawArguments {
  positionals: string[]
  values: Record<string, string | string[] | boolean | undefined>
}

export interface Command<Args> {
  name: string
  /** the arguments after the command name, for the help text: `<model> <alias> <release>` */
  synopsis: string
  summary: string
  /** extra help text under the options */
  details?: string
  options: Record<string, OptionSpec>
  /** checks and converts the arguments; throws `UsageError` before anything is sent */
  parse: (raw: RawArguments) => Args
  run: (context: CommandContext, args: Args) => Promise<void>
}

/** Keeps each command's argument type tied to its parse and run, while the list of commands stays one array. */
export function defineCommand<Args> (command: Command<Args>): Command<Args> {
  return command
}

/** Prints a successful answer: the body as received with `--json`, else what `human` renders. */
export function printResult (context: CommandContext, response: AdminApiResponse, human: (body: unknown) => string): void {
  if (context.json) {
    context.io.stdout.write(response.text.endsWith('\n') ? response.text : response.text + '\n')
  } else {
    context.io.stdout.write(human(response.body))
  }
}

// Checking arguments: each failure names the argument and what was expected.

export function positionals (raw: RawArguments, names: readonly string[], optional: readonly string[] = []): string[] {
  const given = raw.positionals
  if (given.length < names.length) {
    throw new UsageError(`missing ${names.slice(given.length).map((name) => `<${name}>`).join(' ')}`)
  }
  if (given.length > names.length + optional.length) {
    throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length + optional.length])}`)
  }
  for (const [i, value] of given.entries()) {
    if (value === '') throw new UsageError(`<${[...names, ...optional][i]}> is empty`)
  }
  return given
}

export function stringOption (raw: RawArguments, name: string): string | undefined {
  const value = raw.values[name]
  if (typeof value !== 'string') return undefined
  if (value === '') throw new UsageError(`--${name} is empty`)
  return value
}

/** Every value of a repeatable option (`multiple: true`), in the order given; none is empty. */
export function stringListOption (raw: RawArguments, name: string): string[] {
  const value = raw.values[name]
  const values = Array.isArray(value) ? value : typeof value === 'string' ? [value] : []
  if (values.includes('')) throw new UsageError(`--${name} is empty`)
  return values
}

export function booleanOption (raw: RawArguments, name: string): boolean {
  return raw.values[name] === true
}

export function positiveInteger (text: string, what: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${what} must be a positive whole number, not ${JSON.stringify(text)}`)
  }
  return Number(text)
}

export function optionalPositiveInteger (raw: RawArguments, name: string): number | undefined {
  const text = stringOption(raw, name)
  return text === undefined ? undefined : positiveInteger(text, `--${name}`)
}

/** `--if-match` takes the alias's revision as its ETag prints it (`"7"`) or bare (`7`). */
export function ifMatchOption (raw: RawArguments): number | undefined {
  const text = stringOption(raw, 'if-match')
  if (text === undefined) return undefined
  return positiveInteger(text.replace(/^W\//, '').replace(/^"(.*)"$/, '$1'), '--if-match')
}

export function oneOf<T extends string> (text: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`${what} must be ${allowed.join(' or ')}, not ${JSON.stringify(text)}`)
  }
  return text as T
}

export const IF_MATCH_OPTION: OptionSpec = {
  type: 'string',
  value: 'rev',
  description: 'only if the alias is still at this revision (its ETag); a stale one exits 4',
}
