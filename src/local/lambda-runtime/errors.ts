/**
 * Errors of the Lambda REST API, answered the way Lambda answers them: the HTTP status, an `x-amzn-ErrorType`
 * header naming the error, and a JSON body `{"Type": "User", "Message"|"message": ...}`. Lambda spells the message
 * member `message` for some errors and `Message` for others (see the error shapes in @aws-sdk/client-lambda); the
 * SDK reads both, but the AWS CLI prints what it finds, so each error keeps Lambda's spelling.
 */
export class LambdaApiError extends Error {
  constructor (
    readonly errorType: string,
    readonly status: number,
    message: string,
    readonly details: { headers?: Record<string, string>, body?: Record<string, unknown> } = {}
  ) {
    super(message)
    this.name = 'LambdaApiError'
  }

  /** The response body Lambda sends for this error. */
  body (): Record<string, unknown> {
    const messageMember = LOWERCASE_MESSAGE.has(this.errorType) ? 'message' : 'Message'
    return { Type: this.status >= 500 ? 'Service' : 'User', [messageMember]: this.message, ...this.details.body }
  }
}

const LOWERCASE_MESSAGE = new Set([
  'InvalidParameterValueException', 'InvalidRequestContentException', 'PreconditionFailedException',
  'RequestTooLargeException', 'ResourceConflictException', 'TooManyRequestsException', 'ValidationException',
])

export function resourceNotFound (message: string): LambdaApiError {
  return new LambdaApiError('ResourceNotFoundException', 404, message)
}

export function invalidParameter (message: string): LambdaApiError {
  return new LambdaApiError('InvalidParameterValueException', 400, message)
}

export function invalidRequestContent (message: string): LambdaApiError {
  return new LambdaApiError('InvalidRequestContentException', 400, message)
}

export function validationError (message: string): LambdaApiError {
  return new LambdaApiError('ValidationException', 400, message)
}

export function resourceConflict (message: string): LambdaApiError {
  return new LambdaApiError('ResourceConflictException', 409, message)
}

export function preconditionFailed (message: string): LambdaApiError {
  return new LambdaApiError('PreconditionFailedException', 412, message)
}

export function requestTooLarge (limit: number): LambdaApiError {
  return new LambdaApiError('RequestTooLargeException', 413, `Request must be smaller than ${limit} bytes for the InvokeFunction operation`)
}

/** Lambda's throttle: `Reason` says which limit was hit, `Retry-After` when to try again. */
export function tooManyRequests (reason: string): LambdaApiError {
  return new LambdaApiError('TooManyRequestsException', 429, 'Rate Exceeded.', {
    headers: { 'Retry-After': '1' },
    body: { Reason: reason },
  })
}

/** A Lambda operation that exists in AWS but not in this local runtime. */
export function unsupportedOperation (operation: string): LambdaApiError {
  return new LambdaApiError('UnsupportedOperationException', 400, `${operation} is not supported by the local Lambda runtime`)
}

/** A method and path that name no Lambda operation at all. */
export function unknownOperation (method: string, path: string): LambdaApiError {
  return new LambdaApiError('UnknownOperationException', 404, `Unknown operation: ${method} ${path}`)
}
