import t from 'tap'
import { hrefOf, parseRoute, type Route } from '../console/src/route.js'
import { fillPath } from '../console/src/routes.js'
import { roleAllows } from '../console/src/session.js'

t.test('each view has a fragment address that reads back as the same view; anything else is the models', async (t) => {
  const routes: Route[] = [
    { view: 'models' },
    { view: 'model', model: 'resnet50' },
    { view: 'alias', model: 'resnet50', alias: 'production' },
    { view: 'evaluation', model: 'resnet50', id: '0b9c-41' },
  ]
  for (const route of routes) t.same(parseRoute(hrefOf(route)), route, hrefOf(route))
  t.same(parseRoute(''), { view: 'models' })
  t.same(parseRoute('#/nothing/here'), { view: 'models' })
  t.same(parseRoute('#/models/resnet50/unknown/x'), { view: 'model', model: 'resnet50' })
})

t.test('route paths are filled with encoded parameters, relative to the API root', async (t) => {
  t.equal(fillPath('alias', { model: 'resnet50', alias: 'production' }), 'v1/models/resnet50/aliases/production')
  t.equal(fillPath('cancelRollout', { model: 'm', alias: 'a', id: 'x/y?' }), 'v1/models/m/aliases/a/rollouts/x%2Fy%3F')
  t.equal(fillPath('whoami', {}), 'v1/whoami')
})

t.test('roles nest as the API\'s do', async (t) => {
  t.ok(roleAllows('admin', 'promoter'))
  t.ok(roleAllows('promoter', 'promoter'))
  t.notOk(roleAllows('viewer', 'promoter'))
  t.ok(roleAllows('viewer', 'viewer'))
})
