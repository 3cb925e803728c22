/**
 * Every error code the admin API answers with, its HTTP status and what it means. This is the one place where a
 * code becomes a status: the registry's domain errors carry the code, `ApiError` carries the codes that only HTTP
 * knows (token, routing, body parsing), and the app's single error handler looks the status up here. The README's
 * error table is this list.
 */
export const ERROR_CODES = {
  invalid_input: { status: 400, meaning: 'a body, query, header or name is malformed; the message says which field and why' },
  invalid_json: { status: 400, meaning: 'the body is not valid JSON' },
  empty_body: { status: 400, meaning: 'an upload arrived with no body' },
  unauthorized: { status: 401, meaning: 'no bearer token, or a token the registry does not know or that was revoked' },
  token_expired: { status: 401, meaning: 'the bearer token has passed its `expiresAt`' },
  forbidden: { status: 403, meaning: 'the token\'s role is too low for this route, or a move sent `force` without being admin' },
  not_found: { status: 404, meaning: 'no such route' },
  token_not_found: { status: 404, meaning: 'no token has the id in the path' },
  body_timeout: { status: 408, meaning: 'the upload body sent nothing for `MODELPIN_BODY_TIMEOUT_MS`; nothing was stored' },
  model_not_found: { status: 404, meaning: 'the model in the path does not exist' },
  release_not_found: { status: 404, meaning: 'the release number in the path does not exist' },
  alias_not_found: { status: 404, meaning: 'the alias in the path does not exist' },
  evaluation_not_found: { status: 404, meaning: 'the model has no evaluation with the id in the path' },
  model_exists: { status: 409, meaning: 'a model with that name is already registered' },
  function_alias_taken: { status: 409, meaning: 'the Lambda alias (functionName and functionAlias) is another model\'s: a model cannot register or update onto it, nor move while it shares one with an earlier model' },
  token_name_taken: { status: 409, meaning: 'an active token (neither revoked nor expired) already has that name' },
  bootstrap_token: { status: 409, meaning: 'the token is the current bootstrap admin token: rotate it by restarting with a new `MODELPIN_ADMIN_TOKEN`, not by revoking it' },
  payload_too_large: { status: 413, meaning: 'the upload is larger than `MODELPIN_MAX_UPLOAD_BYTES` (by Content-Length or once the stream passed it); nothing was stored' },
  no_canary: { status: 400, meaning: 'a canary step (promote, abort) on an alias that runs no canary' },
  alias_busy: { status: 409, meaning: 'another move of this alias is in flight and the request had no If-Match' },
  rollout_in_progress: { status: 409, meaning: 'a rollout of this alias runs (or another rollout was asked for): promote and canary moves wait for it to end or be cancelled; a rollback cancels it' },
  canary_in_progress: { status: 409, meaning: 'a rollout was asked for while a canary runs on the alias: promote or abort that canary first' },
  rollout_finished: { status: 409, meaning: 'the rollout has ended already: there is nothing to cancel' },
  rollout_not_found: { status: 404, meaning: 'the rollout id in the path does not exist for this alias' },
  revision_mismatch: { status: 412, meaning: 'the If-Match revision is not the alias\'s current revision (or a move to it is in flight), or the If-Match version is not the model\'s' },
  unsupported_media_type: { status: 415, meaning: 'this route does not accept the request\'s Content-Type' },
  unknown_release: { status: 422, meaning: 'a release number named in the body does not exist' },
  version_not_found: { status: 422, meaning: 'an S3 version named in the body does not exist (the message names bucket, key and VersionId)' },
  not_deployed: { status: 422, meaning: 'the operation needs a Lambda function and the model has none' },
  gate_rejected: { status: 422, meaning: 'the promotion gate rejected the candidate release' },
  warmup_failed: { status: 422, meaning: 'a warm-up invocation of the move\'s target version failed: it cannot serve' },
  bucket_not_found: { status: 422, meaning: 'the model\'s bucket, or an evaluation\'s input bucket, does not exist in S3' },
  no_inputs: { status: 422, meaning: 'an evaluation found no object under its prefix (modified after `modifiedAfter` when given)' },
  evaluation_required: { status: 422, meaning: 'the model\'s promotion policy needs a succeeded evaluation of the release against the served one, at most `maxAgeSeconds` old; there is none' },
  policy_violated: { status: 422, meaning: 'the evaluation that vouches for the release fails the model\'s promotion policy (the message lists the violations)' },
  prediction_failed: { status: 422, meaning: 'the function answered the prediction with an error (its errorType and errorMessage are in the message)' },
  rate_limited: { status: 429, meaning: 'more than `MODELPIN_AUTH_FAILURES_PER_MINUTE` failed authentications from this address within 60 s; `Retry-After` says when to try again (a valid token is still served)' },
  internal: { status: 500, meaning: 'an unexpected failure; details are in the server log, never in the answer' },
  deploy_failed: { status: 502, meaning: 'Lambda failed while the alias was pushed; the alias did not move (the message names the failed step)' },
  outcome_unknown: { status: 503, meaning: 'Lambda may have moved but could not be read back, or the move could not be recorded; `Retry-After` says when a reconcile will have settled it (one history entry then says how it ended)' },
  shutting_down: { status: 503, meaning: 'the process is stopping (SIGTERM): it finishes the requests in flight and takes no new one; send it to another replica or retry once it is back' },
} as const satisfies Record<string, { status: number, meaning: string }>

export type ErrorCode = keyof typeof ERROR_CODES

/** The HTTP status of each error code (derived from ERROR_CODES, so the two cannot disagree). */
export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = Object.fromEntries(
  Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status])
) as Record<ErrorCode, number>

/** An error that only the HTTP layer knows about (token, routing, body); its status comes from STATUS_BY_CODE. */
export class ApiError extends Error {
  /** sent as `Retry-After` (429) */
  readonly retryAfterSeconds: number | undefined
  constructor (readonly code: ErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message)
    this.name = 'ApiError'
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
}
