import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import {
  invalidParameter, preconditionFailed, resourceConflict, resourceNotFound, validationError,
} from './errors.js'
import type { VersionRouter } from './routing.js'

/**
 * The control plane of the local Lambda runtime: functions, their `$LATEST` configuration, published versions
 * (each a frozen copy of the configuration) and aliases with weighted routing. Everything is kept in memory: like
 * a Lambda function created by Terraform, the configuration starts from the runtime's config on every start.
 */

export const ACCOUNT_ID = '000000000000'
export const LATEST = '$LATEST'

/** A function as the runtime's config declares it. */
export interface LocalFunctionConfig {
  name: string
  /** absolute path to the ESM bundle that exports the handler */
  bundlePath: string
  /** the export name (`handler`) or Lambda's `file.export` form (`index.handler`; the file part is not checked) */
  handler: string
  environment: Record<string, string>
  memoryMb?: number
  timeoutSeconds?: number
  /** reserved concurrency: how many invocations may run at once (default 10) */
  maxConcurrency?: number
  description?: string
}

/** One configuration as Lambda freezes it in a version (`$LATEST` is the one that changes). */
export interface VersionConfiguration {
  version: string
  description: string
  handler: string
  bundlePath: string
  environment: Record<string, string>
  memoryMb: number
  timeoutSeconds: number
  codeSha256: string
  codeSize: number
  revisionId: string
  lastModified: string
  /** Changes whenever `$LATEST`'s configuration or code changes: environments of an older one are retired. */
  generation: number
}

export interface AliasState {
  name: string
  functionVersion: string
  description: string
  /** `RoutingConfig.AdditionalVersionWeights`: at most one version, as Lambda allows */
  weights: Record<string, number>
  revisionId: string
}

export interface LocalFunction {
  name: string
  arn: string
  maxConcurrency: number
  latest: VersionConfiguration
  lastUpdateStatus: 'Successful' | 'InProgress'
  versions: Map<string, VersionConfiguration>
  aliases: Map<string, AliasState>
  nextVersion: number
  updateTimer?: NodeJS.Timeout | undefined
}

/** What an invocation runs: the function, the configuration of the version it landed on, and the alias if any. */
export interface InvocationTarget {
  fn: LocalFunction
  configuration: VersionConfiguration
  alias: AliasState | undefined
  /** the ARN the caller named (with its qualifier), as `context.invokedFunctionArn` */
  invokedArn: string
}

export const DEFAULT_MEMORY_MB = 128
export const DEFAULT_TIMEOUT_SECONDS = 3
export const DEFAULT_MAX_CONCURRENCY = 10
// Limits of Lambda's API (UpdateFunctionConfiguration): memory 128 MB to 10,240 MB, timeout 1 s to 900 s.
const MEMORY_RANGE = [128, 10240] as const
const TIMEOUT_RANGE = [1, 900] as const
const ALIAS_NAME = /^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/
// Variables Lambda sets itself and refuses in a function's configuration.
const RESERVED_VARIABLES = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
])

export interface CatalogOptions {
  region: string
  /** how long `LastUpdateStatus` stays `InProgress` after UpdateFunctionConfiguration */
  updateDelayMs: number
  router: VersionRouter
  /** called when `$LATEST` changes, so its running environments can be retired */
  onLatestChanged: (functionName: string) => void
}

type Body = Record<string, unknown>

export class FunctionCatalog {
  private readonly functions = new Map<string, LocalFunction>()

  constructor (configs: LocalFunctionConfig[], private readonly options: CatalogOptions) {
    for (const config of configs) {
      if (this.functions.has(config.name)) throw new Error(`lambda runtime config: function "${config.name}" is declared twice`)
      this.functions.set(config.name, this.createFunction(config))
    }
  }

  list (): LocalFunction[] {
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

  /** Lambda's `FunctionConfiguration` for `configuration`; `arnQualifier` qualifies `FunctionArn` as the caller did. */
  describe (fn: LocalFunction, configuration: VersionConfiguration, arnQualifier?: string): Body {
    const isLatest = configuration.version === LATEST
    return {
      FunctionName: fn.name,
      FunctionArn: arnQualifier === undefined ? fn.arn : `${fn.arn}:${arnQualifier}`,
      Runtime: `nodejs${process.versions.node.split('.')[0]}.x`,
      Role: `arn:aws:iam::${ACCOUNT_ID}:role/${fn.name}-local`,
      Handler: configuration.handler,
      CodeSize: configuration.codeSize,
      Description: configuration.description,
      Timeout: configuration.timeoutSeconds,
      MemorySize: configuration.memoryMb,
      LastModified: configuration.lastModified,
      CodeSha256: configuration.codeSha256,
      Version: configuration.version,
      Environment: { Variables: { ...configuration.environment } },
      TracingConfig: { Mode: 'PassThrough' },
      RevisionId: configuration.revisionId,
      State: 'Active',
      LastUpdateStatus: isLatest ? fn.lastUpdateStatus : 'Successful',
      PackageType: 'Zip',
      Architectures: ['x86_64'],
      EphemeralStorage: { Size: 512 },
      SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: logGroupName(fn.name) },
    }
  }

  /** GetFunction's answer. */
  getFunction (functionName: string, qualifier?: string): Body {
    const target = this.resolve(functionName, qualifier)
    const arnQualifier = qualifierOf(functionName, qualifier)
    return {
      Configuration: this.describe(target.fn, target.configuration, arnQualifier),
      Code: { RepositoryType: 'Local', Location: `file://${target.configuration.bundlePath}` },
      Tags: {},
      Concurrency: { ReservedConcurrentExecutions: target.fn.maxConcurrency },
    }
  }

  /**
   * UpdateFunctionConfiguration: Environment (replaced whole), MemorySize, Timeout, Description, Handler. The new
   * configuration applies to new environments at once; `LastUpdateStatus` reads `InProgress` for `updateDelayMs`,
   * during which another update or a publish is refused with 409, as Lambda does.
   */
  updateConfiguration (functionName: string, body: Body): Body {
    const fn = this.function(functionName)
    this.checkRevision(body, fn.latest.revisionId, fn.arn)
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
    }, this.options.updateDelayMs)
    fn.updateTimer.unref()
    this.options.onLatestChanged(fn.name)
    return this.describe(fn, fn.latest)
  }

  /**
   * PublishVersion: freezes `$LATEST` (configuration and code hash) as version N+1, or answers with the newest
   * version when nothing changed since it was published, as Lambda does.
   */
  publishVersion (functionName: string, body: Body): Body {
    const fn = this.function(functionName)
    this.checkRevision(body, fn.latest.revisionId, fn.arn)
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
    if (newest !== undefined && sameConfiguration(newest, fn.latest)) return this.describe(fn, newest, newest.version)
    const version = String(fn.nextVersion++)
    const published: VersionConfiguration = {
      ...fn.latest,
      environment: { ...fn.latest.environment },
      version,
      description: readString(body, 'Description') ?? '',
      revisionId: randomUUID(),
      lastModified: lambdaTimestamp(),
      // a version's environments never retire for a change elsewhere
      generation: 0,
    }
    fn.versions.set(version, published)
    return this.describe(fn, published, version)
  }

  listVersions (functionName: string, marker?: string, maxItems?: string): Body {
    const fn = this.function(functionName)
    const all = [
      this.describe(fn, fn.latest, LATEST),
      ...[...fn.versions.values()].map((v) => this.describe(fn, v, v.version)),
    ]
    const page = paginate(all, marker, maxItems)
    return { Versions: page.items, ...(page.nextMarker === undefined ? {} : { NextMarker: page.nextMarker }) }
  }

  createAlias (functionName: string, body: Body): Body {
    const fn = this.function(functionName)
    const name = readString(body, 'Name')
    if (name === undefined || !ALIAS_NAME.test(name)) {
      throw validationError(`1 validation error detected: Value '${name ?? 'null'}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`)
    }
    if (fn.aliases.has(name)) throw resourceConflict(`Alias already exists: ${fn.arn}:${name}`)
    const functionVersion = readString(body, 'FunctionVersion')
    if (functionVersion === undefined) throw invalidParameter('FunctionVersion is required')
    this.versionOf(fn, functionVersion)
    const weights = this.readWeights(fn, body.RoutingConfig) ?? {}
    checkRouting(functionVersion, weights)
    const alias: AliasState = {
      name,
      functionVersion,
      description: readString(body, 'Description') ?? '',
      weights,
      revisionId: randomUUID(),
    }
    fn.aliases.set(name, alias)
    return this.describeAlias(fn, alias)
  }

  getAlias (functionName: string, aliasName: string): Body {
    const fn = this.function(functionName)
    return this.describeAlias(fn, this.aliasOf(fn, aliasName))
  }

  /** UpdateAlias: FunctionVersion, Description and RoutingConfig, each kept when omitted; `RevisionId` honoured. */
  updateAlias (functionName: string, aliasName: string, body: Body): Body {
    const fn = this.function(functionName)
    const alias = this.aliasOf(fn, aliasName)
    this.checkRevision(body, alias.revisionId, `${fn.arn}:${alias.name}`)
    const functionVersion = readString(body, 'FunctionVersion') ?? alias.functionVersion
    this.versionOf(fn, functionVersion)
    const weights = this.readWeights(fn, body.RoutingConfig) ?? alias.weights
    checkRouting(functionVersion, weights)
    const updated: AliasState = {
      ...alias,
      functionVersion,
      description: readString(body, 'Description') ?? alias.description,
      weights,
      revisionId: randomUUID(),
    }
    fn.aliases.set(alias.name, updated)
    return this.describeAlias(fn, updated)
  }

  deleteAlias (functionName: string, aliasName: string): void {
    const fn = this.function(functionName)
    this.aliasOf(fn, aliasName)
    fn.aliases.delete(aliasName)
  }

  listAliases (functionName: string, functionVersion?: string, marker?: string, maxItems?: string): Body {
    const fn = this.function(functionName)
    const aliases = [...fn.aliases.values()]
      .filter((a) => functionVersion === undefined || a.functionVersion === functionVersion)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((a) => this.describeAlias(fn, a))
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

  private describeAlias (fn: LocalFunction, alias: AliasState): Body {
    return {
      AliasArn: `${fn.arn}:${alias.name}`,
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      ...(Object.keys(alias.weights).length === 0 ? {} : { RoutingConfig: { AdditionalVersionWeights: { ...alias.weights } } }),
      RevisionId: alias.revisionId,
    }
  }

  private checkRevision (body: Body, current: string, arn: string): void {
    const expected = readString(body, 'RevisionId')
    if (expected !== undefined && expected !== current) {
      throw preconditionFailed(`The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id for ${arn}`)
    }
  }

  private refuseWhileUpdating (fn: LocalFunction): void {
    if (fn.lastUpdateStatus === 'InProgress') {
      throw resourceConflict(`The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`)
    }
  }

  private readWeights (fn: LocalFunction, routing: unknown): Record<string, number> | undefined {
    if (routing === undefined || routing === null) return undefined
    if (typeof routing !== 'object') throw invalidParameter('RoutingConfig must be an object')
    const raw = (routing as Body).AdditionalVersionWeights
    if (raw === undefined || raw === null) return {}
    if (typeof raw !== 'object') throw invalidParameter('AdditionalVersionWeights must be a map of version to weight')
    const entries = Object.entries(raw as Body)
    if (entries.length > 1) throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1')
    const weights: Record<string, number> = {}
    for (const [version, weight] of entries) {
      if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1)) {
        throw validationError(`1 validation error detected: Value '${String(weight)}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must be between 0.0 and 1.0`)
      }
      if (version === LATEST || !fn.versions.has(version)) {
        throw invalidParameter(`Invalid function version ${version}. Function version ${version} does not exist or is $LATEST.`)
      }
      weights[version] = weight
    }
    return weights
  }
}

/** Lambda's rules for an alias's routing: the additional version is not the primary one, and `$LATEST` is never weighted. */
function checkRouting (functionVersion: string, weights: Record<string, number>): void {
  if (Object.keys(weights).includes(functionVersion)) {
    throw invalidParameter(`Invalid function version ${functionVersion}. Function version ${functionVersion} is already included in routing configuration.`)
  }
  if (Object.keys(weights).length > 0 && functionVersion === LATEST) {
    throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version')
  }
}

/** Splits a FunctionName parameter (name, `name:qualifier`, partial ARN or full ARN) into name and qualifier. */
export function parseFunctionName (functionName: string): { name: string, qualifier: string | undefined } {
  const parts = functionName.split(':')
  if (parts[0] === 'arn') return { name: parts[6] ?? '', qualifier: parts[7] }
  if (parts[1] === 'function') return { name: parts[2] ?? '', qualifier: parts[3] }
  return { name: parts[0] ?? '', qualifier: parts[1] }
}

/** The qualifier of a call: the `Qualifier` parameter or the one in the function name; both must agree. */
export function qualifierOf (functionName: string, qualifierParam: string | undefined): string | undefined {
  const inName = parseFunctionName(functionName).qualifier
  if (inName !== undefined && qualifierParam !== undefined && inName !== qualifierParam) {
    throw invalidParameter('The derived qualifier from the function name does not match the specified qualifier.')
  }
  return qualifierParam ?? inName
}

export function logGroupName (functionName: string): string {
  return `/aws/lambda/${functionName}`
}

/** Lambda's `LastModified` format: `2024-05-01T12:00:00.000+0000`. */
function lambdaTimestamp (): string {
  return new Date().toISOString().replace('Z', '+0000')
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

function readString (body: Body, field: string): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalidParameter(`${field} must be a string`)
  return value
}

function readInteger (body: Body, field: string, [min, max]: readonly [number, number]): number | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(`${field} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

function readEnvironment (value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'object') throw invalidParameter('Environment must be an object')
  const variables = (value as Body).Variables ?? {}
  if (typeof variables !== 'object' || variables === null) throw invalidParameter('Environment.Variables must be a map of strings')
  const result: Record<string, string> = {}
  for (const [key, v] of Object.entries(variables)) {
    if (typeof v !== 'string') throw invalidParameter(`Environment variable ${key} must be a string`)
    result[key] = v
  }
  const reserved = Object.keys(result).filter((k) => RESERVED_VARIABLES.has(k))
  if (reserved.length > 0) {
    throw invalidParameter(`Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${reserved.join(', ')}`)
  }
  return result
}

function paginate<T> (items: T[], marker: string | undefined, maxItems: string | undefined): { items: T[], nextMarker: string | undefined } {
  const start = marker === undefined || marker === '' ? 0 : Number(marker)
  if (!Number.isInteger(start) || start < 0) throw invalidParameter(`Invalid Marker: ${marker}`)
  const limit = maxItems === undefined ? 50 : Number(maxItems)
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw invalidParameter(`MaxItems must be an integer from 1 to 10000, got ${maxItems}`)
  const page = items.slice(start, start + limit)
  return { items: page, nextMarker: start + limit < items.length ? String(start + limit) : undefined }
}
