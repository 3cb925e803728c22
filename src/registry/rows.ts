import type { Selectable } from 'kysely'
import type { AliasRow } from './alias-locks.js'
import type { AliasHistoryTable, ModelsTable, ReleasesTable } from './db.js'
import type { Alias, HistoryAction, HistoryEntry, HistoryOutcome, Model, PromotionPolicy, Release, S3Location } from './model.js'
import type { ClaimedAlias } from './move-plan.js'
import type { ModelSettings } from './validation.js'
import { redactAwsIdentifiers } from '../aws/aws-error-code.js'

/** Rows of the registry's tables to domain objects and back: snake_case columns here, camelCase everywhere else. */

export type ModelRow = Selectable<ModelsTable>
export type ReleaseRow = Selectable<ReleasesTable>
export type HistoryRow = Selectable<AliasHistoryTable>

/** A model's settings as columns (validated before: see checkModelSettings). */
export function modelColumns (settings: ModelSettings): Omit<ModelRow, 'name' | 'created_at' | 'updated_at' | 'version'> {
  return {
    bucket: settings.bucket,
    weights_key: settings.weightsKey,
    labels_key: settings.labelsKey,
    function_name: settings.functionName,
    function_alias: settings.functionAlias,
    deploy_alias: settings.deployAlias,
    gate_images: JSON.stringify(settings.gateImages),
    prewarm: settings.prewarm,
    promotion_policy: settings.promotionPolicy === null ? null : JSON.stringify(settings.promotionPolicy),
  }
}

export function toModel (row: ModelRow): Model {
  return {
    name: row.name,
    bucket: row.bucket,
    weightsKey: row.weights_key,
    labelsKey: row.labels_key,
    functionName: row.function_name,
    functionAlias: row.function_alias,
    deployAlias: row.deploy_alias,
    gateImages: JSON.parse(row.gate_images) as S3Location[],
    prewarm: row.prewarm,
    promotionPolicy: row.promotion_policy === null ? null : JSON.parse(row.promotion_policy) as PromotionPolicy,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  }
}

export function toRelease (row: ReleaseRow): Release {
  return {
    model: row.model,
    number: row.number,
    weightsVersionId: row.weights_version_id,
    labelsVersionId: row.labels_version_id,
    weightsSha256: row.weights_sha256,
    labelsSha256: row.labels_sha256,
    weightsSize: Number(row.weights_size),
    labelsSize: Number(row.labels_size),
    notes: row.notes,
    createdAt: row.created_at,
    createdBy: row.created_by,
  }
}

export function toAlias (row: AliasRow): Alias {
  return {
    model: row.model,
    alias: row.name,
    release: row.release ?? 0,
    revision: row.revision,
    updatedAt: row.updated_at,
    canary: row.canary_release === null ? null : { release: row.canary_release, weight: row.canary_weight ?? 0 },
  }
}

/** An alias row as the move plans read it: what it serves, and through which Lambda versions. */
export function toClaimedAlias (row: AliasRow): ClaimedAlias {
  return {
    model: row.model,
    alias: row.name,
    release: row.release,
    canary: row.canary_release === null ? null : { release: row.canary_release, weight: row.canary_weight ?? 0 },
    functionVersion: row.function_version,
    canaryFunctionVersion: row.canary_function_version,
  }
}

export function toHistoryEntry (row: HistoryRow): HistoryEntry {
  return {
    at: row.at,
    actor: row.actor,
    action: row.action as HistoryAction,
    fromRelease: row.from_release,
    toRelease: row.to_release,
    reason: row.reason,
    outcome: row.outcome as HistoryOutcome,
    detail: row.detail,
  }
}

/** A history entry before it is written: everything but when and how it ended. */
export type HistoryDraft = Pick<HistoryEntry, 'action' | 'actor' | 'reason' | 'fromRelease' | 'toRelease' | 'detail'>

export function historyRow (alias: { model: string, alias: string }, entry: HistoryDraft, outcome: HistoryOutcome, at: string): Omit<HistoryRow, 'id'> {
  return {
    model: alias.model,
    alias: alias.alias,
    at,
    actor: entry.actor,
    action: entry.action,
    from_release: entry.fromRelease,
    to_release: entry.toRelease,
    reason: entry.reason,
    outcome,
    // a detail may quote a function's error or a Lambda answer: never an ARN or an account ID (errors leak nothing)
    detail: entry.detail === null ? null : redactAwsIdentifiers(entry.detail),
  }
}
