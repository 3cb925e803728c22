/** The CLI's own error; `main` turns it, and the admin API client's errors, into a line on stderr and an exit code. */

/** Bad flags or arguments, found before any request is sent (exit 2). */
export class UsageError extends Error {
  constructor (message: string, readonly command?: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The command ran but what it waited for ended badly (an evaluation that failed); `exitCode` says how. */
export class OutcomeError extends Error {
  constructor (message: string, readonly exitCode: number) {
    super(message)
    this.name = 'OutcomeError'
  }
}
