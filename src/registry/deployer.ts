import type { ModelPin } from '../contract/pin.js'

/**
 * The deployer port: how the registry makes Lambda serve a release. The registry owns every rule (which version,
 * when, what history says); a deployer only does the mechanical steps. The real one is src/deploy (AWS Lambda API
 * through @aws-sdk/client-lambda; the local runtime speaks the same API). A model with no `functionName` has no
 * deploy target and its aliases are registry-only.
 */

/** Where a model is served: a function and the Lambda alias that the model's deploy alias drives. */
export interface DeployTarget { functionName: string, functionAlias: string }

/** A release as the deployer needs it: model and number go into the version's description, the pin configures it. */
export interface ReleaseBuild { model: string, release: number, pin: ModelPin }

/** How a publish treats a known version. */
export interface PublishOptions {
  /** true: a known version whose configuration lacks this release's MODEL_RELEASE is published again */
  requireRelease?: boolean | undefined
}

/** A canary split of the alias: `weight` (0..1) of invocations go to `functionVersion`. */
export interface CanaryRoute { functionVersion: string, weight: number }

/** What the Lambda alias serves right now, read back from Lambda (the truth for what serves). */
export interface LiveAlias {
  functionVersion: string
  pin: ModelPin | undefined
  canary: (CanaryRoute & { pin: ModelPin | undefined }) | null
  /** the alias's RevisionId when read (Lambda changes it on every UpdateAlias) */
  revisionId?: string | undefined
}

/** The Lambda alias's routing as one GetAlias reports it, without the pins of its versions. */
export interface AliasRouting {
  functionVersion: string
  canary: CanaryRoute | null
  /** the alias's RevisionId when read */
  revisionId?: string | undefined
}

export interface InvokeResult {
  /** set when the function failed (`Unhandled` or `Handled`, as Lambda reports it) */
  functionError?: string | undefined
  /** the function's JSON response, or its error payload `{errorType, errorMessage}` */
  payload: unknown
}

/**
 * Thrown by a deployer when a step fails; `step` names it (e.g. `update-function-configuration`, `publish-version`).
 * `effectUnknown` is true when the call may have taken effect although it failed (a timeout, a reset connection, a
 * 5xx answer): only reading Lambda back tells.
 */
export class DeployStepError extends Error {
  readonly effectUnknown: boolean
  constructor (readonly step: string, message: string, options?: ErrorOptions & { effectUnknown?: boolean }) {
    super(message, options)
    this.name = 'DeployStepError'
    this.effectUnknown = options?.effectUnknown ?? false
  }
}

export interface Deployer {
  /**
   * A published function version serving `build`: `knownVersion` when it still exists (no configuration update, no
   * new version), otherwise the release's pin is written to the function's environment (every other variable kept),
   * the update awaited, and a new version published whose description names model and release. The release number
   * is written beside the pin as MODEL_RELEASE. With `requireRelease`, a known version that lacks MODEL_RELEASE
   * (published before it existed) is not reused: a new version is published.
   */
  publish (target: DeployTarget, build: ReleaseBuild, knownVersion?: string, options?: PublishOptions): Promise<{ functionVersion: string, published: boolean }>
  /**
   * Points the Lambda alias at `functionVersion`, with `canary` as its only additional routing (none when omitted).
   * With `expectedRevision` (what `aliasRevision` answered earlier; null: the alias did not exist) the update only
   * applies if the alias has not changed since: a fenced mover's route fails instead of overwriting.
   */
  route (target: DeployTarget, functionVersion: string, canary?: CanaryRoute, expectedRevision?: string | null): Promise<void>
  /** The Lambda alias's RevisionId, null when the alias does not exist. */
  aliasRevision (target: DeployTarget): Promise<string | null>
  /**
   * Updates the alias to the routing it already has, which gives it a new RevisionId: every route passed an older
   * one fails from then on. Nothing to do when the alias does not exist.
   */
  fence (target: DeployTarget): Promise<void>
  /** Reads the Lambda alias (one GetAlias); null when it does not exist. */
  readAlias (target: DeployTarget): Promise<AliasRouting | null>
  /**
   * The pin in a published version's configuration (one GetFunctionConfiguration; a published version never
   * changes); undefined when the version does not exist or carries no pin.
   */
  versionPin (functionName: string, version: string): Promise<ModelPin | undefined>
  /**
   * Invokes the function (at `qualifier`, default the target's alias) with `payload`, synchronously; with
   * `timeoutMs`, a call with no answer by then fails (a DeployStepError whose effect is unknown); `signal` cuts it.
   */
  invoke (target: DeployTarget, payload: unknown, qualifier?: string, options?: { timeoutMs?: number | undefined, signal?: AbortSignal | undefined }): Promise<InvokeResult>
}
