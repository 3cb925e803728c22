import t from 'tap'
import { adminClient, startEndToEnd, succeeded } from './helpers/e2e.js'

t.test('GET /v1/models/{model}/aliases answers every serving alias by name, each as the single alias read, live included', async (t) => {
  const { stack, api } = await startEndToEnd(t)
  const { name, deployAlias } = stack.info.model
  succeeded(await api.post(`/v1/models/${name}/aliases/staging/promote`, { release: 2, reason: 'registry-only alias' }), 'promoting staging')
  const viewer = succeeded(await api.post('/v1/tokens', { name: 'console-viewer', role: 'viewer' }), 'minting a viewer').token as string

  const listed = await adminClient(stack.info.endpoints.api, viewer).get(`/v1/models/${name}/aliases`)
  t.equal(listed.status, 200, 'a viewer may list')
  const names = listed.body.aliases.map((alias: { alias: string }) => alias.alias)
  t.same(names, [deployAlias, 'staging'].sort(), 'every alias, by name')
  for (const alias of listed.body.aliases) {
    const single = succeeded(await api.get(`/v1/models/${name}/aliases/${alias.alias as string}`), `reading ${alias.alias as string}`)
    t.same(alias, single, `${alias.alias as string} is listed exactly as its own read shows it`)
  }
  const deploy = listed.body.aliases.find((alias: { alias: string }) => alias.alias === deployAlias)
  t.match(deploy, { release: 1, drift: false, live: { functionName: stack.info.function.name, functionAlias: stack.info.function.alias, release: 1 } },
    'the deploy alias carries what Lambda serves')
  t.match(listed.body.aliases.find((alias: { alias: string }) => alias.alias === 'staging'), { release: 2, live: null, drift: false },
    'a registry-only alias has no live part')

  t.equal((await api.get('/v1/models/no-such-model/aliases')).status, 404, 'an unknown model is 404')
  t.equal((await adminClient(stack.info.endpoints.api, 'mp_not-a-token').get(`/v1/models/${name}/aliases`)).status, 401, 'an unknown token is 401')
})
