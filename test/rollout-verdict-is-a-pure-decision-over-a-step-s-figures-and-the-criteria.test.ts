import t from 'tap'
import type { RolloutCriteria, StepFigures } from '../src/registry/model.js'
import { judgeStep, stepWindow, verdictDueAt } from '../src/registry/rollout-verdict.js'

const figures = (invocations: number, errors = 0, p95Ms: number | null = invocations === 0 ? null : 10): StepFigures => ({ invocations, errors, p95Ms })
const criteria = (more: Partial<RolloutCriteria> = {}): RolloutCriteria => ({ maxErrorRate: null, maxLatencyRatio: null, minInvocations: 20, ...more })

t.test('a candidate within every limit passes', async (t) => {
  t.same(judgeStep({ candidate: figures(40, 1, 12), stable: figures(400, 2, 10) }, criteria({ maxErrorRate: 0.05, maxLatencyRatio: 1.5 }), 1), { kind: 'pass', violations: [] })
  t.same(judgeStep({ candidate: figures(20), stable: figures(0) }, criteria(), 1), { kind: 'pass', violations: [] }, 'no limits: enough invocations pass')
})

t.test('an error rate over the limit fails, named with the measured figure and the limit', async (t) => {
  t.same(judgeStep({ candidate: figures(40, 4), stable: figures(400) }, criteria({ maxErrorRate: 0.05 }), 1),
    { kind: 'fail', violations: ['maxErrorRate: 0.1 vs 0.05'] })
  t.equal(judgeStep({ candidate: figures(40, 2), stable: figures(400) }, criteria({ maxErrorRate: 0.05 }), 1).kind, 'pass', 'exactly at the limit passes')
})

t.test('errors decide before minInvocations only when no remaining success could bring the rate under the limit', async (t) => {
  // 5 errors in 6: even 14 more successes leave 5/20 = 0.25 > 0.1
  t.same(judgeStep({ candidate: figures(6, 5), stable: figures(60) }, criteria({ maxErrorRate: 0.1 }), 1),
    { kind: 'fail', violations: ['maxErrorRate: 0.833 vs 0.1'] })
  // 1 error in 6: 14 more successes would make it 0.05: wait for them
  t.same(judgeStep({ candidate: figures(6, 1), stable: figures(60) }, criteria({ maxErrorRate: 0.1 }), 1),
    { kind: 'extend', violations: ['minInvocations: 6 vs 20'] })
})

t.test('too few candidate invocations extend the step, and after three lengths end it inconclusive', async (t) => {
  const few = { candidate: figures(3), stable: figures(300) }
  t.same(judgeStep(few, criteria(), 1), { kind: 'extend', violations: ['minInvocations: 3 vs 20'] })
  t.same(judgeStep(few, criteria(), 2), { kind: 'extend', violations: ['minInvocations: 3 vs 20'] })
  t.same(judgeStep(few, criteria(), 3), { kind: 'inconclusive', violations: ['minInvocations: 3 vs 20'] })
  t.equal(judgeStep({ candidate: figures(0), stable: figures(0) }, criteria({ maxErrorRate: 0 }), 1).kind, 'extend', 'no traffic at all: no verdict yet')
})

t.test('the latency ratio compares p95s and applies only when both sides have minInvocations', async (t) => {
  t.same(judgeStep({ candidate: figures(40, 0, 31), stable: figures(400, 0, 10) }, criteria({ maxLatencyRatio: 3 }), 1),
    { kind: 'fail', violations: ['maxLatencyRatio: 3.1 vs 3'] })
  t.equal(judgeStep({ candidate: figures(40, 0, 30), stable: figures(400, 0, 10) }, criteria({ maxLatencyRatio: 3 }), 1).kind, 'pass', 'at the limit')
  t.equal(judgeStep({ candidate: figures(40, 0, 300), stable: figures(5, 0, 10) }, criteria({ maxLatencyRatio: 3 }), 1).kind, 'pass',
    'a stable side below minInvocations cannot be compared with')
  t.same(judgeStep({ candidate: figures(40, 10, 300), stable: figures(400, 0, 10) }, criteria({ maxErrorRate: 0.1, maxLatencyRatio: 3 }), 1),
    { kind: 'fail', violations: ['maxErrorRate: 0.25 vs 0.1', 'maxLatencyRatio: 30 vs 3'] }, 'every violated criterion is listed')
})

t.test('a step is due one metrics delay after its window, which grows by stepSeconds per extension', async (t) => {
  t.equal(verdictDueAt(1_000_000, 60, 1, 180), 1_000_000 + 240_000)
  t.equal(verdictDueAt(1_000_000, 60, 3, 180), 1_000_000 + 360_000)
  t.same(stepWindow(1_000_000, 5, 2), { startMs: 1_000_000, endMs: 1_010_000 })
})
