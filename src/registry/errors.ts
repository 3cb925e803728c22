import { redactAwsIdentifiers } from '../aws/aws-error-code.js'

/**
 * Domain errors. Each carries a stable `code` (documented in the README); the API maps each code to exactly one
 * HTTP status in src/api (see `STATUS_BY_CODE` there). Messages are written for the person who sent the request.
 */
export abstract class RegistryError extends Error {
  abstract readonly code: string
  constructor (message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A body, query or name that is malformed (400). */
export class InvalidInputError extends RegistryError { readonly code = 'invalid_input' }
/** The model in the path does not exist (404). */
export class ModelNotFoundError extends RegistryError { readonly code = 'model_not_found' }
/** A model with that name exists already (409). */
export class ModelExistsError extends RegistryError { readonly code = 'model_exists' }
/** The model's Lambda alias (function and alias) is another model's; a model cannot register, update or move onto it (409). */
export class FunctionAliasTakenError extends RegistryError { readonly code = 'function_alias_taken' }
/** The release number in the path does not exist (404). */
export class ReleaseNotFoundError extends RegistryError { readonly code = 'release_not_found' }
/** The alias in the path does not exist (404). */
export class AliasNotFoundError extends RegistryError { readonly code = 'alias_not_found' }
/** A release number named in a body does not exist (422). */
export class UnknownReleaseError extends RegistryError { readonly code = 'unknown_release' }
/** An S3 version named in a body does not exist (422); the message names the bucket, key and VersionId. */
export class VersionNotFoundError extends RegistryError { readonly code = 'version_not_found' }
/** The operation needs a Lambda function but the model has none (422). */
export class NotDeployedError extends RegistryError { readonly code = 'not_deployed' }
/** The promotion gate rejected the candidate (422). */
export class GateRejectedError extends RegistryError { readonly code = 'gate_rejected' }
/** A warm-up invocation of the move's target version answered with a function error: it cannot serve (422). */
export class WarmupFailedError extends RegistryError { readonly code = 'warmup_failed' }
/** Another move of the same alias is in flight and the request had no If-Match (409). */
export class AliasBusyError extends RegistryError { readonly code = 'alias_busy' }
/** The If-Match revision (an alias's) or version (a model's) is stale, or a move to it is already in flight (412). */
export class RevisionMismatchError extends RegistryError { readonly code = 'revision_mismatch' }
/** Lambda failed while the alias was being pushed; the registry alias did not move (502). */
export class DeployFailedError extends RegistryError {
  readonly code = 'deploy_failed'
  constructor (readonly step: string, message: string, options?: ErrorOptions) {
    // the answer names the step and AWS's error code; an ARN or account ID that slipped into the text is cut out
    super(redactAwsIdentifiers(message), options)
  }
}
/**
 * Lambda may have moved but the registry could not tell or could not record it (503): the alias stays locked with
 * its intended move until a reconcile settles it, which `retryAfterSeconds` estimates.
 */
export class OutcomeUnknownError extends RegistryError {
  readonly code = 'outcome_unknown'
  constructor (readonly retryAfterSeconds: number, message: string, options?: ErrorOptions) {
    super(redactAwsIdentifiers(message), options)
  }
}
/** The model's bucket does not exist in S3 (422). */
export class BucketNotFoundError extends RegistryError { readonly code = 'bucket_not_found' }
/** An active token (neither revoked nor expired) already has that name (409). */
export class TokenNameTakenError extends RegistryError { readonly code = 'token_name_taken' }
/** No token has that id (404). */
export class TokenNotFoundError extends RegistryError { readonly code = 'token_not_found' }
/** The token is the current bootstrap token: it is rotated by restarting with a new one, not revoked (409). */
export class BootstrapTokenError extends RegistryError { readonly code = 'bootstrap_token' }
/** A canary step (promote, abort) on an alias that runs no canary (400: nothing to promote or abort). */
export class NoCanaryError extends RegistryError { readonly code = 'no_canary' }
/** A rollout of the alias runs: only a rollback (which cancels it) or the rollout itself may move it (409). */
export class RolloutInProgressError extends RegistryError { readonly code = 'rollout_in_progress' }
/** A canary runs on the alias already: a rollout starts from an alias without one (409). */
export class CanaryInProgressError extends RegistryError { readonly code = 'canary_in_progress' }
/** The rollout id in the path does not exist for that alias (404). */
export class RolloutNotFoundError extends RegistryError { readonly code = 'rollout_not_found' }
/** The rollout ended already: it cannot be cancelled (409). */
export class RolloutFinishedError extends RegistryError { readonly code = 'rollout_finished' }
/** The function answered a prediction with an error (422): bad image, unknown version... as the function says. */
export class PredictionFailedError extends RegistryError {
  readonly code = 'prediction_failed'
  constructor (readonly errorType: string, readonly errorMessage: string, options?: ErrorOptions) {
    super(`the function failed: ${errorType}: ${errorMessage}`, options)
  }
}

/** The evaluation id in the path does not exist for that model (404). */
export class EvaluationNotFoundError extends RegistryError { readonly code = 'evaluation_not_found' }
/** An evaluation found no object under its prefix after its filters (422). */
export class NoInputsError extends RegistryError { readonly code = 'no_inputs' }
/** The promotion policy needs a succeeded, young enough evaluation of the release against the served one (422). */
export class EvaluationRequiredError extends RegistryError { readonly code = 'evaluation_required' }
/** The evaluation that vouches for the release fails the promotion policy; the message lists the violations (422). */
export class PolicyViolatedError extends RegistryError {
  readonly code = 'policy_violated'
  constructor (message: string, readonly violations: string[], options?: ErrorOptions) {
    super(message, options)
  }
}

/** The message of anything thrown, for logs and history details. */
export function messageOf (error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
