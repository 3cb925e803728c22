import { invalidParameter } from './errors.js'

/**
 * What the local Lambda runtime keeps of a function: its `$LATEST` configuration, published versions (each a frozen
 * copy of the configuration) and aliases with weighted routing, and how a FunctionName parameter names them.
 */

export const ACCOUNT_ID = '000000000000'
export const LATEST = '$LATEST'

export const DEFAULT_MEMORY_MB = 128
export const DEFAULT_TIMEOUT_SECONDS = 3
export const DEFAULT_MAX_CONCURRENCY = 10

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
export function lambdaTimestamp (): string {
  return new Date().toISOString().replace('Z', '+0000')
}
