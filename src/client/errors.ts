/** What the admin API client throws: an error answer, no answer at all, or an answer it cannot read. */

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

/** The API answered 2xx with a body that is not JSON: a wrong URL, or a proxy in the way. */
export class UnexpectedResponseError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UnexpectedResponseError'
  }
}

/** A request that cannot be sent as asked (a name no URL path can carry); nothing was sent. */
export class InvalidRequestError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvalidRequestError'
  }
}
