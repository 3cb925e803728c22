import { AdminApiClient } from '../client/admin-api.js'
import { ApiError, ApiUnreachableError, InvalidRequestError, UnexpectedResponseError } from '../client/errors.js'
import type { CliIo } from './command.js'
import { parseCommandLine } from './command-line.js'
import { OutcomeError, UsageError } from './errors.js'
import { EXIT_CODES, exitCodeForStatus } from './exit-codes.js'
import { resolveSettings } from './settings.js'
import { commandUsage, mainUsage } from './usage.js'

export { EXIT_CODES, exitCodeForStatus } from './exit-codes.js'
export type { CliIo } from './command.js'

/**
 * Runs one `modelpin` command line and answers its exit code. Everything it touches comes in through `io`, so
 * tests run it in-process; bin/modelpin.js is the process wrapper.
 */
export async function main (argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const commandLine = parseCommandLine(argv)
    if (commandLine.kind === 'help') {
      io.stdout.write(commandLine.command === undefined ? mainUsage() : commandUsage(commandLine.command))
      return EXIT_CODES.ok
    }
    const settings = await resolveSettings(commandLine.global, io.env, io.cwd)
    const client = new AdminApiClient({
      baseUrl: settings.apiUrl, baseUrlSource: settings.apiUrlSource, token: settings.token,
    })
    await commandLine.command.run({ client, io, json: commandLine.global.json }, commandLine.args)
    return EXIT_CODES.ok
  } catch (error) {
    return report(error, io)
  }
}

function report (error: unknown, io: CliIo): number {
  // a name no URL can carry (`.`, `..`) is found by the client, but it is the command line's fault all the same
  if (error instanceof InvalidRequestError) error = new UsageError(error.message)
  if (error instanceof UsageError) {
    const help = error.command === undefined ? 'modelpin --help' : `modelpin ${error.command} --help`
    io.stderr.write(`error: usage: ${error.message} (see ${help})\n`)
    return EXIT_CODES.usage
  }
  if (error instanceof OutcomeError) {
    io.stderr.write(`error: ${error.message}\n`)
    return error.exitCode
  }
  if (error instanceof ApiError) {
    io.stderr.write(`error: ${error.code}: ${error.message}\n`)
    return exitCodeForStatus(error.status)
  }
  if (error instanceof ApiUnreachableError) {
    io.stderr.write(`error: unreachable: ${error.message}\n`)
    return EXIT_CODES.unavailable
  }
  if (error instanceof UnexpectedResponseError) {
    io.stderr.write(`error: unexpected_response: ${error.message}\n`)
    return EXIT_CODES.error
  }
  io.stderr.write(`error: unexpected: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  return EXIT_CODES.error
}
