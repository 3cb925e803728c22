import type {
  AliasConfiguration, FunctionConfiguration, GetFunctionResponse, LastUpdateStatusReasonCode, Runtime,
} from '@aws-sdk/client-lambda'
import { ACCOUNT_ID, LATEST, logGroupName, type AliasState, type LocalFunction, type VersionConfiguration } from './function-model.js'

/** How Lambda describes a function, a version and an alias in its answers (the SDK's response shapes). */

/** Lambda's `FunctionConfiguration` for `configuration`; `arnQualifier` qualifies `FunctionArn` as the caller did. */
export function describeConfiguration (
  fn: LocalFunction, configuration: VersionConfiguration, arnQualifier?: string
): FunctionConfiguration {
  const isLatest = configuration.version === LATEST
  return {
    FunctionName: fn.name,
    FunctionArn: arnQualifier === undefined ? fn.arn : `${fn.arn}:${arnQualifier}`,
    // the Node.js that runs the environments here, which need not be one Lambda offers
    Runtime: `nodejs${process.versions.node.split('.')[0]}.x` as Runtime,
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
    ...(isLatest && fn.lastUpdateStatus === 'InProgress'
      // what Lambda reports while a configuration update is applied, as recorded on AWS ("Creating" is missing from
      // the SDK's enum of reason codes, which is open: the SDK passes any string through)
      ? { LastUpdateStatus: 'InProgress', LastUpdateStatusReason: 'The function is being created.', LastUpdateStatusReasonCode: 'Creating' as LastUpdateStatusReasonCode }
      : { LastUpdateStatus: 'Successful' }),
    PackageType: 'Zip',
    Architectures: ['x86_64'],
    EphemeralStorage: { Size: 512 },
    SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
    LoggingConfig: { LogFormat: 'Text', LogGroup: logGroupName(fn.name) },
  }
}

/** How ListVersionsByFunction lists a version: its configuration without `State` or `LastUpdateStatus`, as Lambda does. */
export function describeListedVersion (fn: LocalFunction, configuration: VersionConfiguration): FunctionConfiguration {
  const {
    State: _state, LastUpdateStatus: _status, LastUpdateStatusReason: _reason, LastUpdateStatusReasonCode: _code, ...listed
  } = describeConfiguration(fn, configuration, configuration.version)
  return listed
}

/** GetFunction's answer for the configuration a read resolved to. */
export function describeFunction (
  fn: LocalFunction, configuration: VersionConfiguration, arnQualifier: string | undefined
): GetFunctionResponse {
  return {
    Configuration: describeConfiguration(fn, configuration, arnQualifier),
    Code: { RepositoryType: 'Local', Location: `file://${configuration.bundlePath}` },
    Tags: {},
    Concurrency: { ReservedConcurrentExecutions: fn.maxConcurrency },
  }
}

export function describeAlias (fn: LocalFunction, alias: AliasState): AliasConfiguration {
  return {
    AliasArn: `${fn.arn}:${alias.name}`,
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
    ...(Object.keys(alias.weights).length === 0 ? {} : { RoutingConfig: { AdditionalVersionWeights: { ...alias.weights } } }),
    RevisionId: alias.revisionId,
  }
}
