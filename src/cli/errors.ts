/** Errors the CLI reports; `main` turns each into its line on stderr and its exit code. */

/** Bad flags or arguments, found before any request is sent (exit 2). */
export class UsageError extends Error {
  constructor (message: string, readonly command?: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The API answered with an error status; `code` and `message` come from its `{"error": {...}}` body. */
export class ApiError extends Error {
  constructor (readonly status: number, readonly code: string, message: string, readonly body: unknown) {
    super(message)
    this.name = 'ApiError'
  }
}

/** No HTTP answer at all: connection refused, DNS failure, reset. */
export class ApiUnreachableError extends Error {
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ApiUnreachableError'
  }
}

/** The API answered 2xx with a body the CLI cannot read (not JSON): a wrong URL, or a proxy in the way. */
export class UnexpectedResponseError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UnexpectedResponseError'
  }
}
