/**
 * The exit codes scripts can rely on. Printed by `modelpin --help`; changing one is a breaking change.
 */
export const EXIT_CODES = {
  /** the command did what it was asked */
  ok: 0,
  /** the API answered an error not listed below, or something unexpected happened */
  error: 1,
  /** bad flags or arguments; nothing was sent */
  usage: 2,
  /** 404: the model, release or alias does not exist */
  notFound: 3,
  /** 409 or 412: another change of the alias was in flight, the Lambda alias is another model's, or the --if-match revision or version is stale */
  conflict: 4,
  /** 400, 413 or 422: the API rejected the request (bad body, upload too large, unknown version or release, gate rejected) */
  rejected: 5,
  /** 401, 403 or 429: no token, an unknown, revoked or expired token, a role too low, or too many failed authentications */
  auth: 6,
  /** the API is unreachable, or it answered 502/503/504 (Lambda failed, not ready) */
  unavailable: 7,
} as const

export type ExitCode = typeof EXIT_CODES[keyof typeof EXIT_CODES]

/** The exit code for an API error status: one exit code per kind of status of the API's contract. */
export function exitCodeForStatus (status: number): ExitCode {
  switch (status) {
    case 404: return EXIT_CODES.notFound
    case 409: case 412: return EXIT_CODES.conflict
    case 400: case 413: case 422: return EXIT_CODES.rejected
    case 401: case 403: case 429: return EXIT_CODES.auth
    case 502: case 503: case 504: return EXIT_CODES.unavailable
    default: return EXIT_CODES.error
  }
}
