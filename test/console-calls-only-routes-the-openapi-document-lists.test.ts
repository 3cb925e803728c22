import t from 'tap'
import { ROUTES } from '../console/src/routes.js'
import { build } from './helpers/app.js'

// The console's types come from the API's schemas (tsc checks them); its paths are checked here against the OpenAPI
// document, so a renamed or removed route fails the suite rather than the page.
t.test('every route the web console calls is in /docs/json with its method', async (t) => {
  const { api } = await build(t)
  const document = (await api('GET', '/docs/json', { token: null })).body
  const listed = (method: string, path: string): boolean => document.paths[path]?.[method.toLowerCase()] !== undefined
  for (const [name, route] of Object.entries(ROUTES)) {
    t.ok(listed(route.method, route.path), `${name}: ${route.method} ${route.path} is a route of the API`)
  }
  t.ok(listed('GET', '/v1/models/{model}/aliases'), 'the alias list the console reads is documented')
  t.notOk(Object.keys(document.paths).some((path) => path.startsWith('/ui')), 'the console\'s files are not API routes')
})
