import t from 'tap'
import {
  compareAnswers, latencyOf, MAX_CHANGES, POLICY_ACTIONS, policyApplies, policyDecision, verdictOf,
  type InputAnswers, type SideAnswer, type VouchingEvaluation,
} from '../src/registry/evaluation-comparison.js'

/** An answer whose top classes are `indices`, labelled `<prefix><index>`. */
function answer (indices: number[], options: { ms?: number, coldStart?: boolean, prefix?: string } = {}): SideAnswer {
  return { top: indices.map((index) => ({ index, label: `${options.prefix ?? 'c'}${index}` })), ms: options.ms ?? 10, coldStart: options.coldStart ?? false }
}
const error: SideAnswer = { error: 'InvalidImageError: not an image' }

t.test('top1 compares class indices (labels may be renamed), top5Overlap the classes in common, over inputs both sides answered', async (t) => {
  const inputs: InputAnswers[] = [
    { baseline: answer([1, 2, 3, 4, 5]), candidate: answer([1, 2, 3, 4, 5], { prefix: 'renamed ' }) },
    { baseline: answer([1, 2, 3, 4, 5]), candidate: answer([6, 2, 3, 4, 7]) },
    { baseline: answer([1, 2, 3, 4, 5]), candidate: error },
    { baseline: error, candidate: error },
    { baseline: answer([1, 2, 3, 4, 5]), candidate: null },
  ]
  const figures = compareAnswers(inputs)
  t.same(figures.agreement, { top1: 0.5, top5Overlap: 0.8 }, '(1 + 0) / 2 and (5/5 + 3/5) / 2')
  t.same(figures.errors, { candidate: 2, baseline: 1 }, 'errors count per side; unanswered sides count nothing')
  t.same(figures.changes, [{ from: 'c1', to: 'c6', count: 1 }], 'a renamed label with the same index is no change')
  t.same(compareAnswers([{ baseline: error, candidate: answer([1]) }]).agreement, null, 'nothing answered by both: null')
  t.same(compareAnswers([]), { agreement: null, errors: { candidate: 0, baseline: 0 }, latencyMs: { candidate: null, baseline: null }, changes: [] })
})

t.test('changes group by (from, to), most frequent first, ties by from then to, at most 20', async (t) => {
  const pair = (from: number, to: number): InputAnswers => ({ baseline: answer([from]), candidate: answer([to]) })
  const figures = compareAnswers([pair(2, 3), pair(1, 3), pair(1, 2), pair(5, 6), pair(5, 6), pair(1, 1)])
  t.same(figures.changes, [
    { from: 'c5', to: 'c6', count: 2 },
    { from: 'c1', to: 'c2', count: 1 },
    { from: 'c1', to: 'c3', count: 1 },
    { from: 'c2', to: 'c3', count: 1 },
  ])
  const many = Array.from({ length: 30 }, (_, i) => pair(i, i + 100))
  t.equal(compareAnswers(many).changes.length, MAX_CHANGES)
})

t.test('latency is over warm invocations only, p50 and p95 by nearest rank', async (t) => {
  const ms = Array.from({ length: 20 }, (_, i) => i + 1)
  t.same(latencyOf(ms), { p50: 10, p95: 19 })
  t.same(latencyOf([7]), { p50: 7, p95: 7 })
  t.equal(latencyOf([]), null)
  const figures = compareAnswers([
    { baseline: answer([1], { ms: 1000, coldStart: true }), candidate: answer([1], { ms: 2000, coldStart: true }) },
    { baseline: answer([1], { ms: 10 }), candidate: answer([1], { ms: 30 }) },
  ])
  t.same(figures.latencyMs, { baseline: { p50: 10, p95: 10 }, candidate: { p50: 30, p95: 30 } }, 'cold starts left out')
  t.same(compareAnswers([{ baseline: answer([1], { coldStart: true }), candidate: answer([1], { coldStart: true }) }]).latencyMs,
    { candidate: null, baseline: null }, 'only cold starts: null')
})

const figures = compareAnswers([
  { baseline: answer([1], { ms: 10 }), candidate: answer([1], { ms: 30 }) },
  { baseline: answer([1], { ms: 10 }), candidate: answer([2], { ms: 30 }) },
  { baseline: answer([1], { ms: 10 }), candidate: error },
  { baseline: answer([1], { ms: 10 }), candidate: answer([1], { ms: 30 }) },
])

t.test('the verdict lists each criterion the figures fail as "<criterion>: <measured> vs <limit>"', async (t) => {
  t.same(verdictOf({}, figures, 4), { passed: true, violations: [] }, 'a policy of no criterion passes')
  t.same(verdictOf({ minAgreement: 0.6, maxErrorRate: 0.25, maxLatencyRatio: 3 }, figures, 4), { passed: true, violations: [] }, 'at the limits')
  t.same(verdictOf({ minAgreement: 0.9, maxErrorRate: 0.1, maxLatencyRatio: 2 }, figures, 4), {
    passed: false,
    violations: ['minAgreement: 0.6667 vs 0.9', 'maxErrorRate: 0.25 vs 0.1', 'maxLatencyRatio: 3 vs 2'],
  })
  const nothing = compareAnswers([{ baseline: error, candidate: error }])
  t.same(verdictOf({ minAgreement: 0, maxLatencyRatio: 1000 }, nothing, 1).violations,
    ['minAgreement: null vs 0', 'maxLatencyRatio: null vs 1000'], 'a criterion whose figure is null is a violation')
})

t.test('the policy applies to promote and canary-start only: every other action is exempt without being named', async (t) => {
  t.same([...POLICY_ACTIONS], ['promote', 'canary-start'])
  for (const action of ['rollback', 'canary-promote', 'canary-abort', 'canary-step', 'reconcile', 'anything-new']) {
    t.notOk(policyApplies(action), `${action} is exempt`)
  }
})

t.test('the newest evaluation decides: none or too old -> evaluation_required, failing -> policy_violated', async (t) => {
  const now = new Date('2026-12-03T12:00:00.000Z')
  const vouching = (finishedAt: string): VouchingEvaluation => ({ id: 'e1', finishedAt, figures, inputCount: 4 })
  const fresh = vouching('2026-12-03T11:00:00.000Z')
  const base = { release: 2, served: 1, force: false, now }
  t.match(policyDecision({ ...base, policy: null, evaluation: null }), { outcome: 'admitted', detail: null }, 'no policy')
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.5 }, served: null, evaluation: null }), { outcome: 'admitted' }, 'an alias serving nothing yet')
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.5 }, evaluation: null }), { outcome: 'evaluation_required', message: /release 2 against release 1/ })
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.5, maxAgeSeconds: 3599 }, evaluation: fresh }), { outcome: 'evaluation_required', message: /3600 s ago/ })
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.5 }, evaluation: vouching('2026-12-02T11:59:59.000Z') }),
    { outcome: 'evaluation_required' }, 'the default maxAgeSeconds is a day')
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.5, maxAgeSeconds: 3600 }, evaluation: fresh }),
    { outcome: 'admitted', evaluation: 'e1', detail: 'promotion policy passed by evaluation e1' })
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.9 }, evaluation: fresh }),
    { outcome: 'policy_violated', violations: ['minAgreement: 0.6667 vs 0.9'], message: /minAgreement: 0.6667 vs 0.9/ })
  t.match(policyDecision({ ...base, policy: { minAgreement: 0.9 }, evaluation: null, force: true }),
    { outcome: 'admitted', detail: /skipped by force/ }, 'force skips it')
})
