import {
  CreateAliasCommand, GetAliasCommand, GetFunctionConfigurationCommand, InvokeCommand, LambdaClient,
  PreconditionFailedException, PublishVersionCommand, ResourceNotFoundException, UpdateAliasCommand,
  UpdateFunctionConfigurationCommand, waitUntilFunctionUpdatedV2, type AliasConfiguration, type FunctionConfiguration,
} from '@aws-sdk/client-lambda'
import type { Logger } from 'pino'
import {
  pinFromEnvironment, pinToEnvironment, RELEASE_ENVIRONMENT, releaseFromEnvironment, samePin, type ModelPin,
} from '../contract/pin.js'
import {
  DeployStepError, type AliasRouting, type CanaryRoute, type Deployer, type DeployTarget, type InvokeResult,
  type PublishOptions, type ReleaseBuild,
} from '../registry/deployer.js'
import { DEFAULT_WRITE_RETRY, retryRefusedWrite, type WriteRetryPolicy } from './lambda-write-retry.js'
import { awsErrorCode } from '../aws/aws-error-code.js'

/**
 * How many times a publish starts over from reading the function when another writer changed it between its steps
 * (its RevisionId no longer matches, or the version published does not carry the pin): a second writer racing every
 * round three times is a fight to report, not to win.
 */
const PUBLISH_ROUNDS = 3

export interface LambdaDeployerOptions {
  lambda: LambdaClient
  logger?: Logger | undefined
  /** how long to wait for a configuration update to finish before giving up (AWS usually needs a few seconds) */
  updateTimeoutSeconds?: number
  /** retries of writes Lambda refused for now (409, 429); default `DEFAULT_WRITE_RETRY` */
  writeRetry?: WriteRetryPolicy | undefined
}

/** Another writer changed the function between two steps of a publish: the publish starts over from reading it. */
class ConcurrentChangeError extends DeployStepError {}
/** A failure described in modelpin's words (no AWS text in it): its message may be shown as it is. */
class OwnWordsError extends Error {}

/**
 * The Deployer over the AWS Lambda API. Each release becomes its own published version whose environment carries
 * the release's pin; the function's alias points at it. The local runtime speaks the same API, so this is the code
 * path production runs.
 */
export class LambdaDeployer implements Deployer {
  readonly #lambda: LambdaClient
  readonly #logger: Logger | undefined
  readonly #updateTimeoutSeconds: number
  readonly #writeRetry: WriteRetryPolicy

  constructor (options: LambdaDeployerOptions) {
    this.#lambda = options.lambda
    this.#logger = options.logger
    this.#updateTimeoutSeconds = options.updateTimeoutSeconds ?? 120
    this.#writeRetry = options.writeRetry ?? DEFAULT_WRITE_RETRY
  }

  async publish (
    target: DeployTarget, build: ReleaseBuild, knownVersion?: string, options?: PublishOptions
  ): Promise<{ functionVersion: string, published: boolean }> {
    const log = this.#logger?.child({ function: target.functionName, model: build.model, release: build.release })
    if (knownVersion !== undefined) {
      const existing = await this.#versionEnvironment(target.functionName, knownVersion)
      const pin = existing === undefined ? undefined : pinFromEnvironment(existing)
      if (pin !== undefined && samePin(pin, build.pin)) {
        if (options?.requireRelease !== true || releaseFromEnvironment(existing!) === build.release) {
          log?.info({ functionVersion: knownVersion }, 'reusing the published version of this release')
          return { functionVersion: knownVersion, published: false }
        }
        log?.info({ functionVersion: knownVersion }, `the version published for this release lacks ${RELEASE_ENVIRONMENT}; publishing again`)
      } else {
        log?.warn({ functionVersion: knownVersion }, 'the version published for this release is gone or changed; publishing again')
      }
    }

    for (let round = 1; ; round++) {
      try {
        return await this.#publishOnce(target, build, log)
      } catch (error) {
        if (!(error instanceof ConcurrentChangeError) || round >= PUBLISH_ROUNDS) throw error
        log?.warn({ round, step: error.step }, 'another writer changed the function between our steps; reading it again')
      }
    }
  }

  /**
   * One round of a publish: read `$LATEST` (waiting first for an update in progress), write the pin into its
   * environment with the RevisionId just read, wait for that update, then publish with the RevisionId it settled on.
   * Either RevisionId no longer matching means another writer came in between: a `ConcurrentChangeError`.
   */
  async #publishOnce (target: DeployTarget, build: ReleaseBuild, log: Logger | undefined): Promise<{ functionVersion: string, published: true }> {
    const fn = target.functionName
    let current = await step('get-function-configuration', () =>
      this.#write(() => this.#lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))))
    if (current.LastUpdateStatus === 'InProgress') {
      // Lambda refuses an update while another is in progress; waiting for it beats a 409
      await step('wait-function-updated', () => this.#waitUntilUpdated(fn))
      current = await step('get-function-configuration', () =>
        this.#write(() => this.#lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn }))))
    }
    // Every variable that is not part of the pin stays as it is (output bucket, cache limits, endpoints...).
    const variables = { ...current.Environment?.Variables, ...pinToEnvironment(build.pin), [RELEASE_ENVIRONMENT]: String(build.release) }
    await fencedStep('update-function-configuration', () => this.#write(() =>
      this.#lambda.send(new UpdateFunctionConfigurationCommand({
        FunctionName: fn,
        Environment: { Variables: variables },
        RevisionId: current.RevisionId,
      })), { functionName: fn }))
    const settled = await step('wait-function-updated', () => this.#waitUntilUpdated(fn))
    const settledPin = settled?.Environment?.Variables === undefined ? undefined : pinFromEnvironment(settled.Environment.Variables)
    if (settled?.Environment?.Variables !== undefined && (settledPin === undefined || !samePin(settledPin, build.pin) ||
      releaseFromEnvironment(settled.Environment.Variables) !== build.release)) {
      throw new ConcurrentChangeError('wait-function-updated', `${fn} was changed by another writer after our update`)
    }
    const published = await fencedStep('publish-version', () => this.#write(() =>
      this.#lambda.send(new PublishVersionCommand({
        FunctionName: fn,
        Description: `modelpin ${build.model} release ${build.release}`,
        RevisionId: settled?.RevisionId,
      })), { functionName: fn }))
    if (published.Version === undefined || published.Version === '$LATEST') {
      throw new DeployStepError('publish-version', `Lambda published no numbered version of ${fn}`)
    }
    const pin = pinFromEnvironment(published.Environment?.Variables ?? {})
    if (pin === undefined || !samePin(pin, build.pin) ||
      (published.Environment?.Variables !== undefined && releaseFromEnvironment(published.Environment.Variables) !== build.release)) {
      // Someone changed the function between our update and the publish; serving that version would be a lie.
      throw new ConcurrentChangeError('publish-version',
        `version ${published.Version} of ${fn} does not carry release ${build.release}'s pin (concurrent change?)`)
    }
    log?.info({ functionVersion: published.Version }, 'published a version for this release')
    return { functionVersion: published.Version, published: true }
  }

  async route (target: DeployTarget, functionVersion: string, canary?: CanaryRoute, expectedRevision?: string | null): Promise<void> {
    const routing = { AdditionalVersionWeights: canary === undefined ? {} : { [canary.functionVersion]: canary.weight } }
    const revision = expectedRevision !== undefined ? expectedRevision : (await step('get-alias', () => this.#getAlias(target)))?.RevisionId ?? null
    if (revision === null) {
      // CreateAlias's 409 says the alias exists: final, not a refusal for now
      await step('create-alias', () => this.#write(() => this.#lambda.send(new CreateAliasCommand({
        FunctionName: target.functionName,
        Name: target.functionAlias,
        FunctionVersion: functionVersion,
        RoutingConfig: routing,
      })), { retryConflicts: false }))
    } else {
      await step('update-alias', () => this.#write(() => this.#lambda.send(new UpdateAliasCommand({
        FunctionName: target.functionName,
        Name: target.functionAlias,
        FunctionVersion: functionVersion,
        RoutingConfig: routing,
        RevisionId: revision,
      }))))
    }
    this.#logger?.info({ function: target.functionName, alias: target.functionAlias, functionVersion, canary }, 'alias moved')
  }

  async aliasRevision (target: DeployTarget): Promise<string | null> {
    const alias = await step('get-alias', () => this.#getAlias(target))
    return alias?.RevisionId ?? null
  }

  async fence (target: DeployTarget): Promise<void> {
    const alias = await step('get-alias', () => this.#getAlias(target))
    if (alias === undefined) return
    await step('fence-alias', () => this.#write(() => this.#lambda.send(new UpdateAliasCommand({
      FunctionName: target.functionName,
      Name: target.functionAlias,
      FunctionVersion: alias.FunctionVersion,
      RoutingConfig: { AdditionalVersionWeights: alias.RoutingConfig?.AdditionalVersionWeights ?? {} },
      RevisionId: alias.RevisionId,
    }))))
    this.#logger?.info({ function: target.functionName, alias: target.functionAlias }, 'fenced the alias against the mover whose lock was taken over')
  }

  async readAlias (target: DeployTarget): Promise<AliasRouting | null> {
    const alias = await step('get-alias', () => this.#getAlias(target))
    if (alias?.FunctionVersion === undefined) return null
    const [canary] = Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {})
    return {
      functionVersion: alias.FunctionVersion,
      canary: canary === undefined ? null : { functionVersion: canary[0], weight: canary[1] },
      revisionId: alias.RevisionId,
    }
  }

  async versionPin (functionName: string, version: string): Promise<ModelPin | undefined> {
    return await this.#versionPin(functionName, version)
  }

  async invoke (
    target: DeployTarget, payload: unknown, qualifier?: string, options: { timeoutMs?: number | undefined, signal?: AbortSignal | undefined } = {}
  ): Promise<InvokeResult> {
    const signals = [...(options.timeoutMs === undefined ? [] : [AbortSignal.timeout(options.timeoutMs)]), ...(options.signal === undefined ? [] : [options.signal])]
    const abortSignal = signals.length === 0 ? undefined : AbortSignal.any(signals)
    const response = await step('invoke', () => this.#lambda.send(new InvokeCommand({
      FunctionName: target.functionName,
      Qualifier: qualifier ?? target.functionAlias,
      Payload: Buffer.from(JSON.stringify(payload)),
    }), { abortSignal }))
    const text = response.Payload === undefined ? '' : Buffer.from(response.Payload).toString('utf8')
    let body: unknown = null
    try {
      body = text === '' ? null : JSON.parse(text)
    } catch {
      body = text
    }
    return { functionError: response.FunctionError, payload: body }
  }

  /**
   * Waits for the last configuration update with the SDK's waiter (GetFunction until `LastUpdateStatus` is
   * Successful), polling from 100 ms instead of its default second: a local update settles in milliseconds and
   * AWS's in one to a few seconds. The waiter takes a failed poll for "not yet" and would keep polling an unreachable
   * Lambda until the timeout while the move holds its alias's lock; here, as in every other step, the first call
   * that fails ends the wait and is the error reported. Answers the configuration of the last poll (Successful).
   */
  async #waitUntilUpdated (functionName: string): Promise<FunctionConfiguration | undefined> {
    const stop = new AbortController()
    let failure: { error: unknown } | undefined
    let last: FunctionConfiguration | undefined
    const client = observedClient(this.#lambda, {
      answered: (output) => { last = (output as { Configuration?: FunctionConfiguration }).Configuration },
      failed: (error) => {
        failure = { error }
        stop.abort()
      },
    })
    try {
      await waitUntilFunctionUpdatedV2({
        client, minDelay: 0.1, maxDelay: 2, maxWaitTime: this.#updateTimeoutSeconds, abortSignal: stop.signal,
      }, { FunctionName: functionName })
      return last
    } catch (error) {
      if (failure !== undefined) throw failure.error
      // the waiter's own errors carry every response it saw as JSON (the function's whole environment included), so
      // neither they nor their message become a cause: say what happened in our words
      if (last?.LastUpdateStatus === 'Failed') {
        // the reason's code only: its text is AWS's own and may name resources (it goes to the log)
        this.#logger?.warn({ function: functionName, reason: last.LastUpdateStatusReason }, 'the configuration update failed')
        throw new OwnWordsError(`the configuration update failed: ${last.LastUpdateStatusReasonCode ?? 'no reason code given'}`)
      }
      if ((error as Error | undefined)?.name === 'TimeoutError') {
        throw new OwnWordsError(`the configuration update was still ${last?.LastUpdateStatus ?? 'unreported'} after ${this.#updateTimeoutSeconds} s`)
      }
      throw error
    }
  }

  /**
   * A write (or a read Lambda may throttle) with the retries of `retryRefusedWrite`. With `functionName`, a 409 (an
   * update in progress) is retried once that update has finished rather than after the backoff alone.
   */
  async #write<T> (call: () => Promise<T>, options: { functionName?: string, retryConflicts?: boolean } = {}): Promise<T> {
    const { functionName } = options
    return await retryRefusedWrite(call, {
      policy: this.#writeRetry,
      retryConflicts: options.retryConflicts,
      beforeRetry: functionName === undefined
        ? undefined
        : async (refusal) => { if (refusal === 'conflict') await this.#waitUntilUpdated(functionName) },
      onRetry: (refusal, attemptsUsed) => this.#logger?.warn({ function: functionName, refusal, attemptsUsed }, 'Lambda refused a call for now; retrying'),
    })
  }

  async #getAlias (target: DeployTarget): Promise<AliasConfiguration | undefined> {
    try {
      return await this.#lambda.send(new GetAliasCommand({ FunctionName: target.functionName, Name: target.functionAlias }))
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined
      throw error
    }
  }

  /** The pin in a published version's environment; undefined when the version does not exist or carries none. */
  async #versionPin (functionName: string, version: string): Promise<ModelPin | undefined> {
    const env = await this.#versionEnvironment(functionName, version)
    return env === undefined ? undefined : pinFromEnvironment(env)
  }

  /** A published version's environment variables; undefined when the version does not exist. */
  async #versionEnvironment (functionName: string, version: string): Promise<Record<string, string> | undefined> {
    try {
      const config = await this.#lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }))
      return config.Environment?.Variables ?? {}
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined
      throw new DeployStepError('get-function-configuration', `cannot read version ${version} of ${functionName}: ${awsErrorCode(error)}`, { cause: error })
    }
  }
}

/** `lambda` as a waiter sees it: each answer and each failure of a call goes to `observer` on its way back. */
function observedClient (lambda: LambdaClient, observer: { answered: (output: unknown) => void, failed: (error: unknown) => void }): LambdaClient {
  const send = async (...args: Parameters<LambdaClient['send']>): Promise<unknown> => {
    try {
      const output: unknown = await lambda.send(...args)
      observer.answered(output)
      return output
    } catch (error) {
      observer.failed(error)
      throw error
    }
  }
  // everything else (configuration, middleware) is the real client's
  return Object.assign(Object.create(lambda) as LambdaClient, { send })
}

/** Like `step`, where a 412 (the RevisionId passed no longer matches) means another writer came in between. */
async function fencedStep<T> (name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof PreconditionFailedException) {
      throw new ConcurrentChangeError(name, `${name} failed: ${awsErrorCode(error)}`, { cause: error })
    }
    return await step(name, () => Promise.reject(error))
  }
}

async function step<T> (name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    if (error instanceof DeployStepError) throw error
    // the message names the step and AWS's error code only; AWS's own message (ARNs, the account ID) stays in `cause`, for the log
    const said = error instanceof OwnWordsError ? error.message : awsErrorCode(error)
    throw new DeployStepError(name, `${name} failed: ${said}`, { cause: error, effectUnknown: effectUnknown(error) })
  }
}

/**
 * True when a failed call may still have taken effect: no answer came (a timeout, a reset or closed connection) or
 * Lambda answered 5xx. A refused connection or a 4xx answer means Lambda did not apply the call.
 */
export function effectUnknown (error: unknown): boolean {
  const e = error as { name?: unknown, code?: unknown, $fault?: unknown, $metadata?: { httpStatusCode?: unknown } } | null
  if (e === null || typeof e !== 'object') return false
  const status = e.$metadata?.httpStatusCode
  if (typeof status === 'number') return status >= 500
  if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND') return false
  return e.$fault === 'server' || e.name === 'TimeoutError' || e.name === 'AbortError' ||
    ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'UND_ERR_SOCKET'].includes(String(e.code)) ||
    /socket hang up|ECONNRESET|timed? ?out/i.test(String((error as Error).message))
}

/** A Lambda client for `endpoint` (the local runtime) or AWS when undefined; credentials from the SDK's chain. */
export function createLambdaClient (options: {
  endpoint?: string | undefined
  region: string
  credentials?: { accessKeyId: string, secretAccessKey: string } | undefined
}): LambdaClient {
  return new LambdaClient({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    // a promotion must fail fast and clearly when Lambda is unreachable, not hang on retries or a silent endpoint
    // (which would hold the alias's lock): connecting takes milliseconds, and the slowest call, an Invoke on a cold
    // environment, is bounded by the function's timeout (30 s in infra/) plus its init
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 120_000 },
  })
}
