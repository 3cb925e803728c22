import { DEFAULT_POLICY_MAX_AGE_SECONDS } from '../contract/limits.js'
import type { HistoryAction } from './model.js'

/**
 * The decisions of an evaluation, as pure functions over plain data: how two releases' answers compare, whether the
 * comparison passes a promotion policy, and whether a move may go ahead under that policy. No I/O here: the runner
 * (evaluation-runner.ts) collects the answers, the move executor asks `policyDecision`.
 */

/** What one side answered for one input: its top classes, or an error (a function error, or no answer after retries). */
export type SideAnswer =
  | { top: Array<{ index: number, label: string }>, ms: number, coldStart: boolean }
  | { error: string }

/** The answers of both sides for one input; null where no answer is recorded yet. */
export interface InputAnswers { baseline: SideAnswer | null, candidate: SideAnswer | null }

export interface LatencySummary { p50: number, p95: number }

/** The comparison an evaluation shows (its `agreement`, `errors`, `latencyMs`, `changes`). */
export interface EvaluationFigures {
  agreement: { top1: number, top5Overlap: number } | null
  errors: { candidate: number, baseline: number }
  latencyMs: { candidate: LatencySummary | null, baseline: LatencySummary | null }
  changes: Array<{ from: string, to: string, count: number }>
}

/** `changes` lists at most this many (from, to) pairs. */
export const MAX_CHANGES = 20

/**
 * Compares the answers collected so far. `agreement` is over the inputs both sides answered (null when none): top1
 * compares class indices (labels may be renamed between releases), top5Overlap is the mean share of classes the two
 * top lists have in common. Errors count per side. Latency is over warm invocations only (a cold start measures the
 * model load, not the release). `changes` groups the inputs whose top-1 class differs by (from, to) label, most
 * frequent first, ties by `from` then `to`.
 */
export function compareAnswers (inputs: readonly InputAnswers[]): EvaluationFigures {
  let both = 0
  let sameTop1 = 0
  let overlap = 0
  const errors = { candidate: 0, baseline: 0 }
  const warm: { candidate: number[], baseline: number[] } = { candidate: [], baseline: [] }
  const changes = new Map<string, { from: string, to: string, count: number }>()
  for (const { baseline, candidate } of inputs) {
    for (const [side, answer] of [['baseline', baseline], ['candidate', candidate]] as const) {
      if (answer === null) continue
      if ('error' in answer) errors[side]++
      else if (!answer.coldStart) warm[side].push(answer.ms)
    }
    if (baseline === null || candidate === null || 'error' in baseline || 'error' in candidate) continue
    const [b, c] = [baseline.top[0], candidate.top[0]]
    if (b === undefined || c === undefined) continue
    both++
    const baseIndices = new Set(baseline.top.map((p) => p.index))
    const shared = candidate.top.filter((p) => baseIndices.has(p.index)).length
    overlap += shared / Math.max(baseline.top.length, candidate.top.length)
    if (b.index === c.index) {
      sameTop1++
      continue
    }
    const key = JSON.stringify([b.label, c.label])
    const change = changes.get(key) ?? { from: b.label, to: c.label, count: 0 }
    change.count++
    changes.set(key, change)
  }
  return {
    agreement: both === 0 ? null : { top1: share(sameTop1 / both), top5Overlap: share(overlap / both) },
    errors,
    latencyMs: { candidate: latencyOf(warm.candidate), baseline: latencyOf(warm.baseline) },
    changes: [...changes.values()]
      .sort((x, y) => y.count - x.count || compareText(x.from, y.from) || compareText(x.to, y.to))
      .slice(0, MAX_CHANGES),
  }
}

/** p50 and p95 by the nearest-rank method (each is a measured round trip); null without any. */
export function latencyOf (ms: readonly number[]): LatencySummary | null {
  if (ms.length === 0) return null
  const sorted = [...ms].sort((a, b) => a - b)
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!
  return { p50: rank(0.5), p95: rank(0.95) }
}

/** A share rounded to 6 decimals, so that 4 of 5 reads 0.8 and not 0.7999999999999999. */
function share (value: number): number {
  return Math.round(value * 1e6) / 1e6
}

function compareText (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A model's promotion policy (every field optional; `maxAgeSeconds` defaults to a day). */
export interface PromotionPolicy {
  minAgreement?: number | undefined
  maxErrorRate?: number | undefined
  maxLatencyRatio?: number | undefined
  maxAgeSeconds?: number | undefined
}

export interface Verdict { passed: boolean, violations: string[] }

/**
 * The verdict of a finished evaluation against `policy`: each criterion the policy sets, as
 * `"<criterion>: <measured> vs <limit>"` when it fails; a criterion whose figure is null (nothing answered, no warm
 * latency) fails too. Age is not part of it: it is the promotion's business (see policyDecision).
 */
export function verdictOf (policy: PromotionPolicy, figures: EvaluationFigures, inputCount: number): Verdict {
  const violations: string[] = []
  const below = (criterion: string, measured: number | null, limit: number | undefined): void => {
    if (limit !== undefined && (measured === null || measured < limit)) violations.push(`${criterion}: ${figure(measured)} vs ${limit}`)
  }
  const above = (criterion: string, measured: number | null, limit: number | undefined): void => {
    if (limit !== undefined && (measured === null || measured > limit)) violations.push(`${criterion}: ${figure(measured)} vs ${limit}`)
  }
  below('minAgreement', figures.agreement?.top1 ?? null, policy.minAgreement)
  above('maxErrorRate', inputCount === 0 ? null : figures.errors.candidate / inputCount, policy.maxErrorRate)
  const { candidate, baseline } = figures.latencyMs
  above('maxLatencyRatio', candidate === null || baseline === null || baseline.p95 <= 0 ? null : candidate.p95 / baseline.p95, policy.maxLatencyRatio)
  return { passed: violations.length === 0, violations }
}

function figure (measured: number | null): string {
  return measured === null ? 'null' : String(Math.round(measured * 10_000) / 10_000)
}

/**
 * The moves the promotion policy applies to, by history action: a promote and a canary start of the deploy alias
 * (a rollout's start is a canary start). An allowlist, so that every other action (rollbacks, canary promote and
 * abort, a rollout's later `canary-step`s, reconcile) is exempt without being named.
 */
export const POLICY_ACTIONS: readonly string[] = ['promote', 'canary-start'] satisfies HistoryAction[]

/** True when a move with this history action must pass the promotion policy. */
export function policyApplies (action: string): boolean {
  return POLICY_ACTIONS.includes(action)
}

/** The evaluation that vouches for a promotion: the newest succeeded one of the release against the served one. */
export interface VouchingEvaluation {
  id: string
  finishedAt: string
  figures: EvaluationFigures
  inputCount: number
}

export type PolicyDecision =
  | { outcome: 'admitted', evaluation: string | null, detail: string | null }
  | { outcome: 'evaluation_required', message: string }
  | { outcome: 'policy_violated', message: string, violations: string[] }

/**
 * Whether a move of the deploy alias to `release` (which serves `served` now; null: nothing yet) may go ahead under
 * `policy` (null: none), given the newest succeeded evaluation of `release` against `served`. Exempt: no policy,
 * an alias that serves nothing yet, `force` (its caller checked that an admin asked). Otherwise the evaluation must
 * exist, be at most `maxAgeSeconds` old at `now`, and pass the verdict.
 */
export function policyDecision (input: {
  policy: PromotionPolicy | null
  release: number
  served: number | null
  evaluation: VouchingEvaluation | null
  force: boolean
  now: Date
}): PolicyDecision {
  const { policy, release, served, evaluation } = input
  if (input.force) return { outcome: 'admitted', evaluation: null, detail: 'promotion policy skipped by force (admin)' }
  if (policy === null || served === null) return { outcome: 'admitted', evaluation: null, detail: null }
  const maxAge = policy.maxAgeSeconds ?? DEFAULT_POLICY_MAX_AGE_SECONDS
  if (evaluation === null) {
    return { outcome: 'evaluation_required', message: `the promotion policy needs a succeeded evaluation of release ${release} against release ${served}, which serves now; there is none` }
  }
  const ageSeconds = (input.now.getTime() - Date.parse(evaluation.finishedAt)) / 1000
  if (ageSeconds > maxAge) {
    return {
      outcome: 'evaluation_required',
      message: `the newest evaluation of release ${release} against release ${served} (${evaluation.id}) finished ${Math.floor(ageSeconds)} s ago, more than the policy's maxAgeSeconds ${maxAge}; evaluate again`,
    }
  }
  const verdict = verdictOf(policy, evaluation.figures, evaluation.inputCount)
  if (!verdict.passed) {
    return {
      outcome: 'policy_violated',
      message: `evaluation ${evaluation.id} of release ${release} against release ${served} fails the promotion policy: ${verdict.violations.join('; ')}`,
      violations: verdict.violations,
    }
  }
  return { outcome: 'admitted', evaluation: evaluation.id, detail: `promotion policy passed by evaluation ${evaluation.id}` }
}
