import { useEffect, useRef, useState } from 'preact/hooks'
import type { AliasView, HistoryEntry } from '../contract.js'
import { optional, useLoad, useSession } from '../context.js'
import { formatTime, percent, release, shortSha } from '../format.js'
import type { Rollout } from '../contract.js'
import { roleAllows } from '../session.js'
import { Crumbs, Show, Unavailable } from './common.js'
import { MoveForm, type Move } from './move-form.js'
import { RolloutChart } from './rollout-chart.js'

/** How often the alias view reads a running rollout again (its steps last seconds to hours). */
const ROLLOUT_REFRESH_MS = 5000

export function AliasPage ({ model, alias }: { model: string, alias: string }) {
  const { api, me } = useSession()
  const [view, reloadView] = useLoad(async () => await api.alias(model, alias), [api, model, alias])
  const [history, reloadHistory] = useLoad(async () => await api.history(model, alias), [api, model, alias])
  const [releases] = useLoad(async () => await api.releases(model), [api, model])
  const [rollouts, reloadRollouts] = useLoad(async () => await optional(async () => await api.rollouts(model, alias)), [api, model, alias])
  const [move, setMove] = useState<Move | null>(null)
  const mayMove = roleAllows(me.role, 'promoter')
  const actions = useRef<HTMLDivElement>(null)
  // a closed form takes the focus with it: give it back to the actions, so the keyboard does not land on the page's top
  const closeForm = (): void => {
    setMove(null)
    window.requestAnimationFrame(() => actions.current?.querySelector('button')?.focus())
  }

  const reload = async (): Promise<AliasView> => {
    const [now] = await Promise.all([api.alias(model, alias), reloadView(), reloadHistory(), reloadRollouts()])
    return now
  }

  const rolloutsAvailable = rollouts.state === 'done' && rollouts.value !== 'unavailable'
  const running = rollouts.state === 'done' && rollouts.value !== 'unavailable'
    ? rollouts.value.rollouts.find((r) => r.status === 'running')
    : undefined

  // a running rollout moves on its own: follow it (no refresh while a form is open, so nothing changes under the user)
  const following = running !== undefined && move === null
  useEffect(() => {
    if (!following) return
    const timer = window.setInterval(() => { reload().catch(() => {}) }, ROLLOUT_REFRESH_MS)
    return () => window.clearInterval(timer)
  // `reload` reads only what the page's address fixes (model, alias, the session): the first one serves throughout
  }, [following])

  return (
    <section>
      <Crumbs trail={[{ label: 'Models', route: { view: 'models' } }, { label: model, route: { view: 'model', model } }]} />
      <h1 tabIndex={-1}>{model} / {alias}</h1>
      <button type='button' class='refresh' onClick={() => { reload().catch(() => {}) }}>Refresh</button>

      <Show loaded={view} what='the alias'>{(v) => (
        <>
          <Serving view={v} />
          {mayMove && (
            <section aria-labelledby='actions-heading'>
              <h2 id='actions-heading'>Actions</h2>
              <div class='actions' ref={actions}>
                <button type='button' onClick={() => setMove({ kind: 'promote' })}>Promote</button>
                <button type='button' onClick={() => setMove({ kind: 'rollback' })}>Roll back</button>
                {v.canary === null
                  ? <button type='button' onClick={() => setMove({ kind: 'canary-start' })}>Start canary</button>
                  : (
                    <>
                      <button type='button' onClick={() => setMove({ kind: 'canary-promote' })}>Promote canary</button>
                      <button type='button' onClick={() => setMove({ kind: 'canary-abort' })}>Abort canary</button>
                    </>
                    )}
                {rolloutsAvailable && isDeployAlias(v) && running === undefined && v.canary === null &&
                  <button type='button' onClick={() => setMove({ kind: 'rollout-start' })}>Start rollout</button>}
              </div>
              {move !== null && releases.state === 'done' && (
                <MoveForm
                  model={model} view={v} releases={releases.value.releases} move={move}
                  onClose={closeForm} onMoved={reload}
                />
              )}
            </section>
          )}
        </>
      )}
      </Show>

      <h2>History</h2>
      <Show loaded={history} what='the history'>{({ history }) => <HistoryTable entries={history} />}</Show>

      <h2>Rollouts</h2>
      <Show loaded={rollouts} what='the rollouts'>{(found) => found === 'unavailable'
        ? <Unavailable what='Rollouts' />
        : found.rollouts.length === 0
          ? <p>No rollout has run on this alias.</p>
          : found.rollouts.map((rollout) => (
            <RolloutCard
              key={rollout.id} rollout={rollout}
              onCancel={mayMove && rollout.status === 'running' ? () => setMove({ kind: 'rollout-cancel', rollout }) : undefined}
            />
          ))}
      </Show>
    </section>
  )
}

/** Only the deploy alias has a Lambda side; rollouts run on it alone. */
function isDeployAlias (view: AliasView): boolean {
  return view.live !== null || view.liveError !== undefined
}

function Serving ({ view }: { view: AliasView }) {
  const live = view.live
  return (
    <section aria-labelledby='serving-heading'>
      <h2 id='serving-heading'>Serving</h2>
      {view.drift && live !== null && (
        <p class='drift-callout' role='note'>
          <strong>Drift:</strong> Lambda serves release {release(live.release)} (version {live.functionVersion})
          {live.canary === null ? '' : ` with a canary of release ${release(live.canary.release)} at ${percent(live.canary.weight)}`}
          , but the registry says release {view.release}{view.canary === null ? '' : ` with a canary of release ${view.canary.release}`}.
          Lambda is the truth for what serves; the next start-up reconciles the registry.
        </p>
      )}
      <div class='compare'>
        <div>
          <h3>Registry</h3>
          <dl class='facts'>
            <dt>Release</dt><dd>{view.release}</dd>
            <dt>Revision</dt><dd>{view.revision}</dd>
            <dt>Updated</dt><dd>{formatTime(view.updatedAt)}</dd>
            <dt>Canary</dt><dd>{view.canary === null ? 'none' : `release ${view.canary.release} at ${percent(view.canary.weight)}`}</dd>
          </dl>
        </div>
        <div>
          <h3>Lambda</h3>
          {live === null
            ? <p>{view.liveError === undefined ? 'Registry-only alias: it drives no Lambda alias.' : <span class='error-text'>Lambda could not be read: {view.liveError}</span>}</p>
            : (
              <dl class='facts'>
                <dt>Function</dt><dd><code>{live.functionName}:{live.functionAlias}</code></dd>
                <dt>Version</dt><dd>{live.functionVersion}</dd>
                <dt>Release</dt><dd>{release(live.release)}</dd>
                <dt>Weights</dt><dd><code>{live.pin?.weightsVersionId ?? '—'}</code> {shortSha(live.pin?.weightsSha256)}</dd>
                <dt>Canary</dt>
                <dd>{live.canary === null ? 'none' : `version ${live.canary.functionVersion} (release ${release(live.canary.release)}) at ${percent(live.canary.weight)}`}</dd>
              </dl>
              )}
        </div>
      </div>
    </section>
  )
}

const OUTCOME_MARK: Record<HistoryEntry['outcome'], string> = { succeeded: '✓', failed: '✗', rejected: '⊘' }

function HistoryTable ({ entries }: { entries: HistoryEntry[] }) {
  if (entries.length === 0) return <p>No move yet.</p>
  return (
    <div class='scroll'>
      <table class='history'>
        <caption>Moves of this alias, newest first; failed and rejected attempts are marked.</caption>
        <thead>
          <tr>
            <th scope='col'>When</th><th scope='col'>Actor</th><th scope='col'>Action</th><th scope='col'>From</th>
            <th scope='col'>To</th><th scope='col'>Outcome</th><th scope='col'>Reason</th><th scope='col'>Detail</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry, index) => (
            <tr key={`${entry.at}-${index}`} class={`outcome-${entry.outcome}`}>
              <td>{formatTime(entry.at)}</td>
              <td>{entry.actor}</td>
              <td>{entry.action}</td>
              <td>{release(entry.fromRelease)}</td>
              <td>{release(entry.toRelease)}</td>
              <td>{entry.outcome === 'succeeded'
                ? <>{OUTCOME_MARK.succeeded} succeeded</>
                : <strong>{OUTCOME_MARK[entry.outcome]} {entry.outcome}</strong>}
              </td>
              <td>{entry.reason ?? ''}</td>
              <td>{entry.detail ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function RolloutCard ({ rollout, onCancel }: { rollout: Rollout, onCancel: (() => void) | undefined }) {
  const { criteria } = rollout
  return (
    <article class={`rollout rollout-${rollout.status}`} aria-labelledby={`rollout-${rollout.id}`}>
      <h3 id={`rollout-${rollout.id}`}>Rollout of release {rollout.release} over release {rollout.stableRelease}: {rollout.status}</h3>
      <dl class='facts'>
        <dt>Steps</dt>
        <dd>{rollout.steps.map((w, i) => `${i === rollout.currentStep && rollout.status === 'running' ? '▶ ' : ''}${percent(w)}`).join(', ')}, {rollout.stepSeconds} s each</dd>
        <dt>Criteria</dt>
        <dd>
          max error rate {criteria.maxErrorRate ?? '—'}, max latency ratio {criteria.maxLatencyRatio ?? '—'}, min invocations {criteria.minInvocations ?? 20}
        </dd>
        <dt>Started</dt><dd>{formatTime(rollout.startedAt)} by {rollout.actor}{rollout.reason === null ? '' : `: ${rollout.reason}`}</dd>
        <dt>Finished</dt><dd>{formatTime(rollout.finishedAt)}{rollout.failure === null ? '' : ` (${rollout.failure})`}</dd>
      </dl>
      {onCancel !== undefined && <button type='button' onClick={onCancel}>Cancel rollout</button>}
      <RolloutChart observations={rollout.observations} />
      {rollout.observations.length === 0
        ? <p>No step has been judged yet.</p>
        : (
          <table>
            <caption>Observations of the rollout of release {rollout.release}</caption>
            <thead>
              <tr>
                <th scope='col'>Step</th><th scope='col'>Weight</th>
                <th scope='col'>Candidate invocations</th><th scope='col'>Candidate errors</th><th scope='col'>Candidate p95</th>
                <th scope='col'>Stable invocations</th><th scope='col'>Stable errors</th><th scope='col'>Stable p95</th>
                <th scope='col'>Passed</th><th scope='col'>Violations</th>
              </tr>
            </thead>
            <tbody>
              {rollout.observations.map((o) => (
                <tr key={o.step} class={o.passed ? undefined : 'outcome-failed'}>
                  <td>{o.step + 1}</td><td>{percent(o.weight)}</td>
                  <td>{o.candidate.invocations}</td><td>{o.candidate.errors}</td><td>{o.candidate.p95Ms === null ? '—' : `${o.candidate.p95Ms.toFixed(0)} ms`}</td>
                  <td>{o.stable.invocations}</td><td>{o.stable.errors}</td><td>{o.stable.p95Ms === null ? '—' : `${o.stable.p95Ms.toFixed(0)} ms`}</td>
                  <td>{o.passed ? 'yes' : <strong>no</strong>}</td>
                  <td>{o.violations.join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
    </article>
  )
}
