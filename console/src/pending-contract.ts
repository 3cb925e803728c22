/**
 * Evaluations and rollouts as DESIGN.md ("Evaluations", "Rollouts") defines them. Their routes are being built on
 * other branches: when they land, replace these with `Static<typeof ...Schema>` of their TypeBox schemas in
 * contract.ts, as the other types are. Until then the console treats a 404 `not_found` (no such route) on them as
 * "not available on this API".
 */

export type EvaluationStatus = 'running' | 'succeeded' | 'failed'

export interface Evaluation {
  id: string
  model: string
  candidate: number
  baseline: number
  status: EvaluationStatus
  failure: string | null
  reason: string | null
  actor: string
  startedAt: string
  finishedAt: string | null
  inputs: { bucket: string, prefix: string, count: number }
  completed: number
  agreement: { top1: number, top5Overlap: number } | null
  errors: { candidate: number, baseline: number }
  latencyMs: { candidate: Percentiles | null, baseline: Percentiles | null }
  changes: Array<{ from: string, to: string, count: number }>
  verdict: { passed: boolean, violations: string[] } | null
}

export interface Percentiles { p50: number, p95: number }
export interface EvaluationList { evaluations: Evaluation[] }

export type RolloutStatus = 'running' | 'succeeded' | 'aborted' | 'inconclusive' | 'cancelled' | 'failed'

export interface RolloutCriteria { maxErrorRate?: number, maxLatencyRatio?: number, minInvocations?: number }

export interface RolloutSide { invocations: number, errors: number, p95Ms: number | null }

export interface RolloutObservation {
  step: number
  weight: number
  candidate: RolloutSide
  stable: RolloutSide
  passed: boolean
  violations: string[]
}

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

export interface RolloutList { rollouts: Rollout[] }

export interface StartRolloutBody {
  release: number
  steps: number[]
  stepSeconds: number
  criteria: RolloutCriteria
  reason?: string
}
