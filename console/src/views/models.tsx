import { useLoad, useSession } from '../context.js'
import { hrefOf } from '../route.js'
import { Show } from './common.js'

export function ModelsPage () {
  const { api } = useSession()
  const [models] = useLoad(async () => await api.models(), [api])
  return (
    <section>
      <h1 tabIndex={-1}>Models</h1>
      <Show loaded={models} what='the models'>{({ models }) => models.length === 0
        ? <p>No model is registered yet.</p>
        : (
          <table>
            <caption class='visually-hidden'>Registered models</caption>
            <thead><tr><th scope='col'>Model</th><th scope='col'>Bucket</th><th scope='col'>Weights</th><th scope='col'>Function</th><th scope='col'>Deploy alias</th></tr></thead>
            <tbody>
              {models.map((model) => (
                <tr key={model.name}>
                  <th scope='row'><a href={hrefOf({ view: 'model', model: model.name })}>{model.name}</a></th>
                  <td>{model.bucket}</td>
                  <td><code>{model.weightsKey}</code></td>
                  <td>{model.functionName === null ? 'registry only' : `${model.functionName}:${model.functionAlias}`}</td>
                  <td>{model.deployAlias}</td>
                </tr>
              ))}
            </tbody>
          </table>
          )}
      </Show>
    </section>
  )
}
