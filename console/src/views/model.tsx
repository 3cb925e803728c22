import { optional, useLoad, useSession } from '../context.js'
import { formatTime, percent, release, shortSha } from '../format.js'
import { hrefOf } from '../route.js'
import { Crumbs, Show, Unavailable } from './common.js'

export function ModelPage ({ model }: { model: string }) {
  const { api } = useSession()
  const [aliases] = useLoad(async () => await api.aliases(model), [api, model])
  const [releases] = useLoad(async () => await api.releases(model), [api, model])
  const [evaluations] = useLoad(async () => await optional(async () => await api.evaluations(model)), [api, model])
  return (
    <section>
      <Crumbs trail={[{ label: 'Models', route: { view: 'models' } }]} />
      <h1 tabIndex={-1}>{model}</h1>

      <h2>Aliases</h2>
      <Show loaded={aliases} what='the aliases'>{({ aliases }) => aliases.length === 0
        ? <p>No alias serves a release yet.</p>
        : (
          <table>
            <thead><tr><th scope='col'>Alias</th><th scope='col'>Release</th><th scope='col'>Revision</th><th scope='col'>Live (Lambda)</th><th scope='col'>Drift</th><th scope='col'>Canary</th></tr></thead>
            <tbody>
              {aliases.map((alias) => (
                <tr key={alias.alias} class={alias.drift ? 'drift' : undefined}>
                  <th scope='row'><a href={hrefOf({ view: 'alias', model, alias: alias.alias })}>{alias.alias}</a></th>
                  <td>{alias.release}</td>
                  <td>{alias.revision}</td>
                  <td>{alias.live === null
                    ? (alias.liveError === undefined ? 'registry only' : <span class='error-text'>unreadable: {alias.liveError}</span>)
                    : `version ${alias.live.functionVersion} (release ${release(alias.live.release)})`}
                  </td>
                  <td>{alias.drift ? <strong class='flag'>drift</strong> : 'no'}</td>
                  <td>{alias.canary === null ? '—' : `release ${alias.canary.release} at ${percent(alias.canary.weight)}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
      </Show>

      <h2>Releases</h2>
      <Show loaded={releases} what='the releases'>{({ releases }) => releases.length === 0
        ? <p>No release is registered yet.</p>
        : (
          <div class='scroll'>
            <table>
              <thead>
                <tr>
                  <th scope='col'>Number</th><th scope='col'>Created</th><th scope='col'>By</th>
                  <th scope='col'>Weights VersionId</th><th scope='col'>Weights sha256</th>
                  <th scope='col'>Labels VersionId</th><th scope='col'>Labels sha256</th><th scope='col'>Notes</th>
                </tr>
              </thead>
              <tbody>
                {[...releases].sort((a, b) => b.number - a.number).map((r) => (
                  <tr key={r.number}>
                    <th scope='row'>{r.number}</th>
                    <td>{formatTime(r.createdAt)}</td>
                    <td>{r.createdBy}</td>
                    <td><code>{r.weightsVersionId}</code></td>
                    <td><code title={r.weightsSha256}>{shortSha(r.weightsSha256)}</code></td>
                    <td><code>{r.labelsVersionId}</code></td>
                    <td><code title={r.labelsSha256}>{shortSha(r.labelsSha256)}</code></td>
                    <td>{r.notes ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          )}
      </Show>

      <h2>Evaluations</h2>
      <Show loaded={evaluations} what='the evaluations'>{(found) => found === 'unavailable'
        ? <Unavailable what='Evaluations' />
        : found.evaluations.length === 0
          ? <p>No evaluation has run yet.</p>
          : (
            <table>
              <thead>
                <tr><th scope='col'>Evaluation</th><th scope='col'>Started</th><th scope='col'>Status</th><th scope='col'>Inputs</th><th scope='col'>Top-1 agreement</th><th scope='col'>Verdict</th></tr>
              </thead>
              <tbody>
                {found.evaluations.map((evaluation) => (
                  <tr key={evaluation.id}>
                    <th scope='row'>
                      <a href={hrefOf({ view: 'evaluation', model, id: evaluation.id })}>
                        Release {evaluation.candidate} against {evaluation.baseline}
                      </a>
                    </th>
                    <td>{formatTime(evaluation.startedAt)}</td>
                    <td>{evaluation.status}</td>
                    <td>{evaluation.completed} / {evaluation.inputs.count}</td>
                    <td>{percent(evaluation.agreement?.top1)}</td>
                    <td>{evaluation.verdict === null ? '—' : evaluation.verdict.passed ? 'passed' : <strong class='flag'>failed</strong>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            )}
      </Show>
    </section>
  )
}
