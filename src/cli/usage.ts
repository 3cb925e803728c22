import type { Command, OptionSpec } from './command.js'
import { GLOBAL_OPTIONS } from './command-line.js'
import { COMMANDS } from './commands/index.js'
import { EXIT_CODES } from './exit-codes.js'

const EXIT_CODE_HELP: Record<keyof typeof EXIT_CODES, string> = {
  ok: 'success',
  error: 'the API answered an error not listed below, or something unexpected happened',
  usage: 'usage error: bad flags or arguments (nothing was sent)',
  notFound: 'not found (404): model, release or alias',
  conflict: 'conflict (409, 412): another move in flight, a Lambda alias another model drives, or a stale --if-match',
  rejected: 'rejected or invalid (400, 422): bad input, unknown version or release, gate rejected',
  auth: 'authentication or authorisation (401, 403): no token, unknown token, role too low',
  unavailable: 'API unreachable, or Lambda failed / not ready (502, 503, 504)',
}

/** `modelpin --help`. */
export function mainUsage (): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length))
  return [
    'modelpin: the command-line client of the modelpin admin API',
    '',
    'usage: modelpin <command> [arguments] [flags]',
    '       modelpin <command> --help',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'flags (any command):',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    '.modelpin/ is MODELPIN_DATA_DIR when set, else the nearest .modelpin folder from here up (the local stack\'s).',
    '',
    'Output: aligned tables for people; with --json, stdout holds exactly the API\'s JSON body and nothing else.',
    'Errors go to stderr as `error: <code>: <message>`.',
    '',
    'exit codes:',
    ...Object.entries(EXIT_CODES).map(([name, code]) => `  ${code}  ${EXIT_CODE_HELP[name as keyof typeof EXIT_CODES]}`),
    '',
  ].join('\n')
}

/** `modelpin <command> --help`. */
export function commandUsage (command: Command<unknown>): string {
  const ownOptions = optionLines(command.options)
  return [
    `usage: modelpin ${command.name}${command.synopsis === '' ? '' : ' ' + command.synopsis} [flags]`,
    '',
    command.summary,
    ...(ownOptions.length > 0 ? ['', 'flags:', ...ownOptions] : []),
    ...(command.details === undefined ? [] : ['', command.details]),
    '',
    'global flags: --api <url>, --token <token>, --json, --help (see modelpin --help, with the exit codes)',
    '',
  ].join('\n')
}

function optionLines (options: Record<string, OptionSpec>): string[] {
  const names = Object.entries(options).map(([name, option]) => [
    `--${name}${option.value === undefined ? '' : ` <${option.value}>`}`, option.description,
  ] as const)
  const width = Math.max(0, ...names.map(([flag]) => flag.length))
  return names.map(([flag, description]) => `  ${flag.padEnd(width)}  ${description}`)
}
