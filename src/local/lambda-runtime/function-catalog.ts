import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import type {
  AliasConfiguration, CreateAliasRequest, FunctionConfiguration, GetFunctionResponse, ListAliasesResponse,
  ListFunctionsResponse, ListVersionsByFunctionResponse, PublishVersionRequest, UpdateAliasRequest,
  UpdateFunctionConfigurationRequest,
} from '@aws-sdk/client-lambda'
import { invalidParameter, preconditionFailed, resourceConflict, resourceNotFound } from './errors.js'
import { describeAlias, describeConfiguration, describeFunction, describeListedVersion } from './descriptions.js'
import {
  ACCOUNT_ID, DEFAULT_MAX_CONCURRENCY, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_SECONDS, LATEST, lambdaTimestamp,
  parseFunctionName, qualifierOf, type AliasState, type InvocationTarget, type LocalFunction, type LocalFunctionConfig,
  type VersionConfiguration,
} from './function-model.js'
import {
  checkRouting, MEMORY_RANGE, paginate, readAliasName, readEnvironment, readInteger, readString, readWeights,
  RESERVED_VARIABLES, TIMEOUT_RANGE, type RequestBody,
} from './request-fields.js'
import type { VersionRouter } from './routing.js'

/**
 * The control plane of the local Lambda runtime: functions, their `$LATEST` configuration, published versions
 * and aliases with weighted routing, answering each operation with the SDK's response shape. Everything is kept in
 * memory; given `restore` and `onChanged`, the runtime also keeps it in a state file across restarts (state-file.ts).
 * Without them, like a Lambda function created by Terraform, the configuration starts from the runtime's config.
 */

export interface CatalogOptions {
  region: string
  /** how long `LastUpdateStatus` stays `InProgress` after UpdateFunctionConfiguration */
  updateDelayMs: number
  router: VersionRouter
  /** called when `$LATEST` changes, so its running environments can be retired */
  onLatestChanged: (functionName: string) => void
  /** what a restart keeps of a declared function (the runtime's state file), if anything */
  restore?: ((declared: LocalFunction) => LocalFunction) | undefined
  /** called after every control-plane change (the runtime saves its state file there) */
  onChanged?: (() => void) | undefined
}

export class FunctionCatalog {
  private readonly functions = new Map<string, LocalFunction>()

  constructor (configs: LocalFunctionConfig[], private readonly options: CatalogOptions) {
    for (const config of configs) {
      if (this.functions.has(config.name)) throw new Error(`lambda runtime config: function "${config.name}" is declared twice`)
      const declared = this.createFunction(config)
      this.functions.set(config.name, options.restore?.(declared) ?? declared)
    }
  }

  /** Every function, as the state file saves them. */
  all (): LocalFunction[] {
    return [...this.functions.values()]
  }

  /** The function named by `functionName` (a name, partial ARN or ARN); 404 if unknown. */
  function (functionName: string): LocalFunction {
    const { name } = parseFunctionName(functionName)
    const fn = this.functions.get(name)
    if (fn === undefined) throw resourceNotFound(`Function not found: ${this.arnOf(name)}`)
    return fn
  }

  /**
   * The configuration a read (GetFunction, GetFunctionConfiguration) answers with: a version, `$LATEST`, or the
   * primary version of an alias.
   */
  resolve (functionName: string, qualifierParam?: string): InvocationTarget {
    const fn = this.function(functionName)
    const qualifier = qualifierOf(functionName, qualifierParam)
    if (qualifier === undefined) return { fn, configuration: fn.latest, alias: undefined, invokedArn: fn.arn }
    const invokedArn = `${fn.arn}:${qualifier}`
    if (qualifier === LATEST) return { fn, configuration: fn.latest, alias: undefined, invokedArn }
    const version = fn.versions.get(qualifier)
    if (version !== undefined) return { fn, configuration: version, alias: undefined, invokedArn }
    const alias = fn.aliases.get(qualifier)
    if (alias === undefined) throw resourceNotFound(`Function not found: ${invokedArn}`)
    return { fn, configuration: this.versionOf(fn, alias.functionVersion), alias, invokedArn }
  }

  /** The configuration one invocation runs: like `resolve`, with an alias's weights applied. */
  route (functionName: string, qualifier?: string): InvocationTarget {
    const target = this.resolve(functionName, qualifier)
    const alias = target.alias
    if (alias === undefined) return target
    const [additional] = Object.entries(alias.weights)
    const version = this.options.router.pick(
      `${target.invokedArn}@${alias.revisionId}`,
      alias.functionVersion,
      additional === undefined ? undefined : { version: additional[0], weight: additional[1] }
    )
    return { ...target, configuration: this.versionOf(target.fn, version) }
  }

  /** ListFunctions' answer: every function's `$LATEST`. */
  listFunctions (): ListFunctionsResponse {
    return { Functions: [...this.functions.values()].map((fn) => describeConfiguration(fn, fn.latest)) }
  }

  /** GetFunction's answer. */
  getFunction (functionName: string, qualifier?: string): GetFunctionResponse {
    const target = this.resolve(functionName, qualifier)
    return describeFunction(target.fn, target.configuration, qualifierOf(functionName, qualifier))
  }

  /** GetFunctionConfiguration's answer. */
  getConfiguration (functionName: string, qualifierParam?: string): FunctionConfiguration {
    const qualifier = qualifierOf(functionName, qualifierParam)
    const target = this.resolve(functionName, qualifier)
    return describeConfiguration(target.fn, target.configuration, qualifier)
  }

  /**
   * UpdateFunctionConfiguration: Environment (replaced whole), MemorySize, Timeout, Description, Handler. The new
   * configuration applies to new environments at once; `LastUpdateStatus` reads `InProgress` for `updateDelayMs`,
   * during which another update or a publish is refused with 409, as Lambda does.
   */
  updateConfiguration (functionName: string, body: RequestBody<UpdateFunctionConfigurationRequest>): FunctionConfiguration {
    const fn = this.function(functionName)
    this.checkRevision(body, fn.latest.revisionId)
    this.refuseWhileUpdating(fn)
    const changes: Partial<VersionConfiguration> = {}
    const environment = readEnvironment(body.Environment)
    if (environment !== undefined) changes.environment = environment
    const memory = readInteger(body, 'MemorySize', MEMORY_RANGE)
    if (memory !== undefined) changes.memoryMb = memory
    const timeout = readInteger(body, 'Timeout', TIMEOUT_RANGE)
    if (timeout !== undefined) changes.timeoutSeconds = timeout
    const description = readString(body, 'Description')
    if (description !== undefined) changes.description = description
    const handler = readString(body, 'Handler')
    if (handler !== undefined) changes.handler = handler

    fn.latest = {
      ...fn.latest,
      ...changes,
      revisionId: randomUUID(),
      lastModified: lambdaTimestamp(),
      generation: fn.latest.generation + 1,
    }
    fn.lastUpdateStatus = 'InProgress'
    fn.updateTimer = setTimeout(() => {
      fn.updateTimer = undefined
      fn.lastUpdateStatus = 'Successful'
      // Lambda hands out a new RevisionId when the update completes, as well as when it starts.
      fn.latest = { ...fn.latest, revisionId: randomUUID() }
      this.options.onChanged?.()
    }, this.options.updateDelayMs)
    fn.updateTimer.unref()
    this.options.onLatestChanged(fn.name)
    this.options.onChanged?.()
    return describeConfiguration(fn, fn.latest)
  }

  /**
   * PublishVersion: freezes `$LATEST` (configuration and code hash) as version N+1, or answers with the newest
   * version when nothing changed since it was published, as Lambda does. Without a Description the version takes
   * `$LATEST`'s, and publishing gives `$LATEST` a new RevisionId.
   */
  publishVersion (functionName: string, body: RequestBody<PublishVersionRequest>): FunctionConfiguration {
    const fn = this.function(functionName)
    this.checkRevision(body, fn.latest.revisionId)
    this.refuseWhileUpdating(fn)
    const code = readCode(fn.latest.bundlePath)
    if (code.sha256 !== fn.latest.codeSha256) {
      fn.latest = { ...fn.latest, codeSha256: code.sha256, codeSize: code.size, generation: fn.latest.generation + 1 }
      this.options.onLatestChanged(fn.name)
    }
    const expectedSha = readString(body, 'CodeSha256')
    if (expectedSha !== undefined && expectedSha !== fn.latest.codeSha256) {
      throw invalidParameter(`CodeSHA256 (${expectedSha}) is different from current CodeSHA256 in $LATEST (${fn.latest.codeSha256}). Please try again with the CodeSHA256 in $LATEST.`)
    }
    const newest = fn.versions.get(String(fn.nextVersion - 1))
    if (newest !== undefined && sameConfiguration(newest, fn.latest)) return describeConfiguration(fn, newest, newest.version)
    const version = String(fn.nextVersion++)
    const published: VersionConfiguration = {
      ...fn.latest,
      environment: { ...fn.latest.environment },
      version,
      description: readString(body, 'Description') ?? fn.latest.description,
      revisionId: randomUUID(),
      lastModified: lambdaTimestamp(),
      // a version's environments never retire for a change elsewhere
      generation: 0,
    }
    fn.versions.set(version, published)
    fn.latest = { ...fn.latest, revisionId: randomUUID() }
    this.options.onChanged?.()
    return describeConfiguration(fn, published, version)
  }

  /** ListVersionsByFunction: `$LATEST` then each version, described without their state (Lambda lists none). */
  listVersions (functionName: string, marker?: string, maxItems?: string): ListVersionsByFunctionResponse {
    const fn = this.function(functionName)
    const all = [
      describeListedVersion(fn, fn.latest),
      ...[...fn.versions.values()].map((v) => describeListedVersion(fn, v)),
    ]
    const page = paginate(all, marker, maxItems)
    return { Versions: page.items, ...(page.nextMarker === undefined ? {} : { NextMarker: page.nextMarker }) }
  }

  createAlias (functionName: string, body: RequestBody<CreateAliasRequest>): AliasConfiguration {
    const fn = this.function(functionName)
    const name = readAliasName(body, 'Name')
    if (fn.aliases.has(name)) throw resourceConflict(`Alias already exists: ${fn.arn}:${name}`)
    const functionVersion = readString(body, 'FunctionVersion')
    if (functionVersion === undefined) throw invalidParameter('FunctionVersion is required')
    this.versionOf(fn, functionVersion)
    const weights = readWeights(body.RoutingConfig, (v) => this.versionOf(fn, v)) ?? {}
    checkRouting(functionVersion, weights)
    const alias: AliasState = {
      name,
      functionVersion,
      description: readString(body, 'Description') ?? '',
      weights,
      revisionId: randomUUID(),
    }
    fn.aliases.set(name, alias)
    this.options.onChanged?.()
    return describeAlias(fn, alias)
  }

  getAlias (functionName: string, aliasName: string): AliasConfiguration {
    const fn = this.function(functionName)
    return describeAlias(fn, this.aliasOf(fn, aliasName))
  }

  /**
   * UpdateAlias: FunctionVersion, Description and RoutingConfig, each kept when omitted; `RevisionId` honoured. An
   * unknown alias is "Alias not found" here, where GetAlias says "Cannot find alias arn", as Lambda words them.
   */
  updateAlias (functionName: string, aliasName: string, body: RequestBody<UpdateAliasRequest>): AliasConfiguration {
    const fn = this.function(functionName)
    const alias = fn.aliases.get(aliasName)
    if (alias === undefined) throw resourceNotFound(`Alias not found: ${fn.arn}:${aliasName}`)
    this.checkRevision(body, alias.revisionId)
    const functionVersion = readString(body, 'FunctionVersion') ?? alias.functionVersion
    this.versionOf(fn, functionVersion)
    const weights = readWeights(body.RoutingConfig, (v) => this.versionOf(fn, v)) ?? alias.weights
    checkRouting(functionVersion, weights)
    const updated: AliasState = {
      ...alias,
      functionVersion,
      description: readString(body, 'Description') ?? alias.description,
      weights,
      revisionId: randomUUID(),
    }
    fn.aliases.set(alias.name, updated)
    this.options.onChanged?.()
    return describeAlias(fn, updated)
  }

  /** DeleteAlias: deleting an alias that does not exist succeeds too, as with Lambda. */
  deleteAlias (functionName: string, aliasName: string): void {
    this.function(functionName).aliases.delete(aliasName)
    this.options.onChanged?.()
  }

  listAliases (functionName: string, functionVersion?: string, marker?: string, maxItems?: string): ListAliasesResponse {
    const fn = this.function(functionName)
    const aliases = [...fn.aliases.values()]
      .filter((a) => functionVersion === undefined || a.functionVersion === functionVersion)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((a) => describeAlias(fn, a))
    const page = paginate(aliases, marker, maxItems)
    return { Aliases: page.items, ...(page.nextMarker === undefined ? {} : { NextMarker: page.nextMarker }) }
  }

  close (): void {
    for (const fn of this.functions.values()) clearTimeout(fn.updateTimer)
  }

  arnOf (name: string): string {
    return `arn:aws:lambda:${this.options.region}:${ACCOUNT_ID}:function:${name}`
  }

  private createFunction (config: LocalFunctionConfig): LocalFunction {
    if (!isAbsolute(config.bundlePath)) {
      throw new Error(`lambda runtime config: bundlePath of function "${config.name}" must be absolute, got "${config.bundlePath}"`)
    }
    const reserved = Object.keys(config.environment).filter((k) => RESERVED_VARIABLES.has(k))
    if (reserved.length > 0) {
      throw new Error(`lambda runtime config: function "${config.name}" sets variables that Lambda reserves (${reserved.join(', ')}); give credentials with the runtime's "credentials" option`)
    }
    const code = readCode(config.bundlePath)
    return {
      name: config.name,
      arn: this.arnOf(config.name),
      maxConcurrency: config.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY,
      latest: {
        version: LATEST,
        description: config.description ?? '',
        handler: config.handler,
        bundlePath: config.bundlePath,
        environment: { ...config.environment },
        memoryMb: config.memoryMb ?? DEFAULT_MEMORY_MB,
        timeoutSeconds: config.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
        codeSha256: code.sha256,
        codeSize: code.size,
        revisionId: randomUUID(),
        lastModified: lambdaTimestamp(),
        generation: 1,
      },
      lastUpdateStatus: 'Successful',
      versions: new Map(),
      aliases: new Map(),
      nextVersion: 1,
    }
  }

  private versionOf (fn: LocalFunction, version: string): VersionConfiguration {
    if (version === LATEST) return fn.latest
    const configuration = fn.versions.get(version)
    if (configuration === undefined) throw resourceNotFound(`Function not found: ${fn.arn}:${version}`)
    return configuration
  }

  private aliasOf (fn: LocalFunction, aliasName: string): AliasState {
    const alias = fn.aliases.get(aliasName)
    if (alias === undefined) throw resourceNotFound(`Cannot find alias arn: ${fn.arn}:${aliasName}`)
    return alias
  }

  private checkRevision (
    body: RequestBody<UpdateFunctionConfigurationRequest | PublishVersionRequest | UpdateAliasRequest>, current: string
  ): void {
    const expected = readString(body, 'RevisionId')
    if (expected !== undefined && expected !== current) {
      throw preconditionFailed('The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id')
    }
  }

  private refuseWhileUpdating (fn: LocalFunction): void {
    if (fn.lastUpdateStatus === 'InProgress') {
      throw resourceConflict(`The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`)
    }
  }
}

function readCode (bundlePath: string): { sha256: string, size: number } {
  let bytes: Buffer
  try {
    bytes = readFileSync(bundlePath)
  } catch (error) {
    throw new Error(`lambda runtime: cannot read the function bundle ${bundlePath}: ${(error as Error).message}`)
  }
  return { sha256: createHash('sha256').update(bytes).digest('base64'), size: bytes.length }
}

function sameConfiguration (a: VersionConfiguration, b: VersionConfiguration): boolean {
  return a.codeSha256 === b.codeSha256 && a.handler === b.handler && a.memoryMb === b.memoryMb &&
    a.timeoutSeconds === b.timeoutSeconds && a.bundlePath === b.bundlePath &&
    JSON.stringify(sorted(a.environment)) === JSON.stringify(sorted(b.environment))
}

function sorted (record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b))
}
