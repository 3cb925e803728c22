import { useLoad, useSession } from '../context.js'
import { formatTime, percent } from '../format.js'
import { Crumbs, Show } from './common.js'
import type { Percentiles } from '../contract.js'

const latency = (p: Percentiles | null): string => p === null ? '—' : `p50 ${p.p50.toFixed(0)} ms, p95 ${p.p95.toFixed(0)} ms`

export function EvaluationPage ({ model, id }: { model: string, id: string }) {
  const { api } = useSession()
  const [evaluation] = useLoad(async () => await api.evaluation(model, id), [api, model, id])
  return (
    <section>
      <Crumbs trail={[{ label: 'Models', route: { view: 'models' } }, { label: model, route: { view: 'model', model } }]} />
      <h1 tabIndex={-1}>
        {evaluation.state === 'done' ? `Evaluation of release ${evaluation.value.candidate} against release ${evaluation.value.baseline}` : 'Evaluation'}
      </h1>
      <Show loaded={evaluation} what='the evaluation'>{(e) => (
        <>
          <dl class='facts'>
            <dt>Status</dt><dd>{e.status}{e.failure !== null && <span class='error-text'>: {e.failure}</span>}</dd>
            <dt>Started</dt><dd>{formatTime(e.startedAt)} by {e.actor}</dd>
            <dt>Finished</dt><dd>{formatTime(e.finishedAt)}</dd>
            <dt>Reason</dt><dd>{e.reason ?? '—'}</dd>
            <dt>Inputs</dt><dd>{e.completed} of {e.inputs.count} from s3://{e.inputs.bucket}/{e.inputs.prefix}</dd>
            <dt>Top-1 agreement</dt><dd>{percent(e.agreement?.top1)}</dd>
            <dt>Top-5 overlap</dt><dd>{percent(e.agreement?.top5Overlap)}</dd>
            <dt>Errors</dt><dd>candidate {e.errors.candidate}, baseline {e.errors.baseline}</dd>
            <dt>Latency, candidate</dt><dd>{latency(e.latencyMs.candidate)}</dd>
            <dt>Latency, baseline</dt><dd>{latency(e.latencyMs.baseline)}</dd>
            <dt>Verdict</dt>
            <dd>{e.verdict === null
              ? 'none (no promotion policy, or not finished)'
              : e.verdict.passed
                ? 'passed'
                : <><strong class='flag'>failed</strong><ul>{e.verdict.violations.map((v) => <li key={v}>{v}</li>)}</ul></>}
            </dd>
          </dl>
          <h2>Changes</h2>
          {e.changes.length === 0
            ? <p>No input changed its top-1 class.</p>
            : (
              <table>
                <caption>Inputs whose top-1 class changed, most frequent first</caption>
                <thead><tr><th scope='col'>From</th><th scope='col'>To</th><th scope='col'>Count</th></tr></thead>
                <tbody>
                  {e.changes.map((change) => (
                    <tr key={`${change.from}\u0000${change.to}`}><td>{change.from}</td><td>{change.to}</td><td>{change.count}</td></tr>
                  ))}
                </tbody>
              </table>
              )}
        </>
      )}
      </Show>
    </section>
  )
}
