import type { ModelPin } from '../contract/pin.js'
import type { PromotionPolicy } from './evaluation-comparison.js'

export type { PromotionPolicy } from './evaluation-comparison.js'

/** The registry's domain types: what the API returns and what the service takes. No I/O here. */

export type ArtifactKind = 'weights' | 'labels'
export const ARTIFACT_KINDS: readonly ArtifactKind[] = ['weights', 'labels']

export type Role = 'viewer' | 'promoter' | 'admin'
/** Roles nest: each one may do everything the ones before it may. */
export const ROLES: readonly Role[] = ['viewer', 'promoter', 'admin']

export interface S3Location { bucket: string, key: string }

export interface Model {
  name: string
  bucket: string
  weightsKey: string
  labelsKey: string
  /** the Lambda function that serves the deploy alias; null for a registry-only model */
  functionName: string | null
  /** the Lambda alias that the deploy alias drives (default `live`) */
  functionAlias: string
  /** the registry alias that drives the Lambda alias (default `production`); every other alias is registry-only */
  deployAlias: string
  /** images the candidate must classify without error before an alias moves to it */
  gateImages: S3Location[]
  /** concurrent warm-up invocations of the target version before a move routes Lambda; 0: none */
  prewarm: number
  /** what a promote or canary start of the deploy alias needs from an evaluation; null: nothing */
  promotionPolicy: PromotionPolicy | null
  createdAt: string
  updatedAt: string
  /** 1 at registration, +1 per update: the model's ETag, and what an update's If-Match names */
  version: number
}

/** One S3 object version (or delete marker) of a model's weights or labels key. */
export interface ArtifactVersion {
  versionId: string
  isLatest: boolean
  lastModified: string
  size: number | null
  etag: string | null
  deleteMarker: boolean
  /** lowercase hex, when the registry recorded it (an upload through it, or a registered release); else null */
  sha256: string | null
}

export interface Release {
  model: string
  number: number
  weightsVersionId: string
  labelsVersionId: string
  weightsSha256: string
  labelsSha256: string
  weightsSize: number
  labelsSize: number
  notes: string | null
  createdAt: string
  createdBy: string
}

export interface CanaryState { release: number, weight: number }

export interface Alias {
  model: string
  alias: string
  release: number
  revision: number
  updatedAt: string
  canary: CanaryState | null
}

export type HistoryAction = 'promote' | 'rollback' | 'canary-start' | 'canary-step' | 'canary-promote' | 'canary-abort' | 'reconcile'
export type HistoryOutcome = 'succeeded' | 'failed' | 'rejected'

export interface HistoryEntry {
  at: string
  actor: string
  action: HistoryAction
  fromRelease: number | null
  toRelease: number | null
  reason: string | null
  outcome: HistoryOutcome
  /** what failed or what was adopted; free text for people, null when there is nothing to add */
  detail: string | null
}

/** What registering a model takes; the optional fields get the defaults below. */
export interface ModelInput {
  name: string
  bucket: string
  weightsKey: string
  labelsKey: string
  functionName?: string | null | undefined
  /** default `live` */
  functionAlias?: string | undefined
  /** default `production` */
  deployAlias?: string | undefined
  /** default none */
  gateImages?: S3Location[] | undefined
  /** default DEFAULT_PREWARM */
  prewarm?: number | undefined
  /** default null (no policy) */
  promotionPolicy?: PromotionPolicy | null | undefined
}

/** A change to a registered model: any field but its name. */
export type ModelPatch = Partial<Omit<ModelInput, 'name'>>

/** What Lambda serves for a deploy alias, read back from Lambda; `release` is null when no release maps to it. */
export interface LiveView {
  functionName: string
  functionAlias: string
  functionVersion: string
  release: number | null
  pin: ModelPin | null
  canary: { functionVersion: string, release: number | null, weight: number, pin: ModelPin | null } | null
}

/**
 * An alias as read: the registry's state plus, for the deploy alias of a model with a function, what Lambda serves
 * and whether the two disagree (`drift`). When Lambda could not be read, `live` is null and `liveError` says why.
 */
export interface AliasView extends Alias {
  live: LiveView | null
  drift: boolean
  liveError?: string
}

export type RolloutStatus = 'running' | 'succeeded' | 'aborted' | 'inconclusive' | 'cancelled' | 'failed'
export const ROLLOUT_STATUSES: readonly RolloutStatus[] = ['running', 'succeeded', 'aborted', 'inconclusive', 'cancelled', 'failed']

/** What a rollout judges its candidate by; absent limits are not checked. */
export interface RolloutCriteria {
  maxErrorRate: number | null
  maxLatencyRatio: number | null
  minInvocations: number
}

/** One side's figures over a step's window, as Lambda's metrics report them (p95Ms null without invocations). */
export interface StepFigures { invocations: number, errors: number, p95Ms: number | null }

/** One verdict of a rollout step. */
export interface RolloutObservation {
  step: number
  weight: number
  candidate: StepFigures
  stable: StepFigures
  passed: boolean
  violations: string[]
}

/** Canary steps towards `release` with an automatic verdict after each (DESIGN.md "Rollouts"). */
export interface Rollout {
  id: string
  model: string
  alias: string
  release: number
  stableRelease: number
  status: RolloutStatus
  failure: string | null
  steps: number[]
  currentStep: number
  stepSeconds: number
  criteria: RolloutCriteria
  startedAt: string
  finishedAt: string | null
  actor: string
  reason: string | null
  observations: RolloutObservation[]
}
