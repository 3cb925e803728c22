import { MAX_STEP_LENGTHS } from '../contract/limits.js'
import type { RolloutCriteria, StepFigures } from './model.js'

/**
 * A rollout's decisions, as pure functions over plain data: when a step is due for a verdict, and what the verdict
 * is. The controller (rollout-controller.ts) reads the metrics, asks these functions, and runs their answer.
 */

/** What the figures of one step's window say about the candidate. */
export type StepVerdict =
  /** every criterion holds: the next step (or, after the last, the promote) */
  | { kind: 'pass', violations: [] }
  /** a criterion failed: the canary is aborted at once */
  | { kind: 'fail', violations: string[] }
  /** too few candidate invocations to judge: the step runs one more `stepSeconds` */
  | { kind: 'extend', violations: string[] }
  /** still too few after MAX_STEP_LENGTHS lengths: the rollout ends inconclusive, the canary aborted */
  | { kind: 'inconclusive', violations: string[] }

/**
 * Judges the candidate against the stable release over one step's window of `lengths` times `stepSeconds`.
 * Error rate is the candidate's errors over its invocations; the latency ratio (candidate p95 over stable p95)
 * applies only when both sides have `minInvocations`. Errors count before traffic: a candidate whose few
 * invocations already exceed the error rate fails even before it has `minInvocations` (waiting would only send
 * more traffic to a release that fails it).
 */
export function judgeStep (figures: { candidate: StepFigures, stable: StepFigures }, criteria: RolloutCriteria, lengths: number): StepVerdict {
  const { candidate, stable } = figures
  const violations: string[] = []
  if (criteria.maxErrorRate !== null && candidate.invocations > 0) {
    const rate = candidate.errors / candidate.invocations
    if (rate > criteria.maxErrorRate) violations.push(`maxErrorRate: ${round(rate)} vs ${criteria.maxErrorRate}`)
  }
  if (candidate.invocations < criteria.minInvocations) {
    if (violations.length > 0 && errorsAlreadyDecide(candidate, criteria)) return { kind: 'fail', violations }
    const short = [`minInvocations: ${candidate.invocations} vs ${criteria.minInvocations}`]
    return lengths >= MAX_STEP_LENGTHS ? { kind: 'inconclusive', violations: short } : { kind: 'extend', violations: short }
  }
  if (criteria.maxLatencyRatio !== null && stable.invocations >= criteria.minInvocations &&
    candidate.p95Ms !== null && stable.p95Ms !== null && stable.p95Ms > 0) {
    const ratio = candidate.p95Ms / stable.p95Ms
    if (ratio > criteria.maxLatencyRatio) violations.push(`maxLatencyRatio: ${round(ratio)} vs ${criteria.maxLatencyRatio}`)
  }
  return violations.length > 0 ? { kind: 'fail', violations } : { kind: 'pass', violations: [] }
}

/**
 * True when the errors seen are enough to fail the candidate whatever its remaining invocations do: even if
 * every invocation still needed to reach `minInvocations` succeeded, the rate would exceed the limit.
 */
function errorsAlreadyDecide (candidate: StepFigures, criteria: RolloutCriteria): boolean {
  if (criteria.maxErrorRate === null) return false
  const atLeast = Math.max(candidate.invocations, criteria.minInvocations)
  return candidate.errors / atLeast > criteria.maxErrorRate
}

/** When the step that started at `stepStartedMs` is due for its verdict after `lengths` lengths: its window's end plus the metrics delay. */
export function verdictDueAt (stepStartedMs: number, stepSeconds: number, lengths: number, delaySeconds: number): number {
  return stepStartedMs + (lengths * stepSeconds + delaySeconds) * 1000
}

/** The metrics window of a step: from its start, `lengths` times `stepSeconds` long. */
export function stepWindow (stepStartedMs: number, stepSeconds: number, lengths: number): { startMs: number, endMs: number } {
  return { startMs: stepStartedMs, endMs: stepStartedMs + lengths * stepSeconds * 1000 }
}

function round (value: number): number {
  return Math.round(value * 1000) / 1000
}
