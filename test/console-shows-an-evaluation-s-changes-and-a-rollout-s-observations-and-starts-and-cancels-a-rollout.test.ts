// Needs the evaluation and rollout routes (DESIGN.md "Evaluations", "Rollouts"), built on other branches: this file
// fails until they are merged.
import t from 'tap'
import { invokeWithTestImage, releaseLabel } from './helpers/admin-api.js'
import { consoleBrowser, openConsole, signIn } from './helpers/browser.js'
import { startEndToEnd, succeeded, type AdminClient } from './helpers/e2e.js'

/** Reads `path` until `done` holds for its body (the limit only turns a hang into a clear failure). */
async function readUntil (api: AdminClient, path: string, done: (body: any) => boolean, limitMs = 120_000): Promise<any> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const body = succeeded(await api.get(path), `reading ${path}`)
    if (done(body)) return body
    if (Date.now() > deadline) throw new Error(`${path} did not reach the expected state within ${limitMs} ms: ${JSON.stringify(body)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

t.test('in headless Chromium an evaluation shows its agreement and its table of changes', async (t) => {
  const { stack, api, photos: { bucket } } = await startEndToEnd(t, { photos: { 'recent/a.jpg': 'red', 'recent/b.jpg': 'red', 'recent/c.jpg': 'red' } })
  const { name: model } = stack.info.model
  const started = await api.post(`/v1/models/${model}/evaluations`, { candidate: 2, baseline: 1, inputs: { bucket, prefix: 'recent/' }, reason: 'console test' })
  t.equal(started.status, 202, JSON.stringify(started.body))
  const evaluation = await readUntil(api, `/v1/models/${model}/evaluations/${started.body.id as string}`, (e) => e.status !== 'running')
  t.equal(evaluation.status, 'succeeded')

  const browser = await consoleBrowser(t)
  const { page, errors, screenshot } = await openConsole(t, browser, stack.info.endpoints.api)
  await signIn(page, stack.token)
  await page.getByRole('link', { name: model, exact: true }).click()
  await page.getByRole('link', { name: 'Release 2 against 1' }).click()
  await page.getByRole('heading', { level: 1, name: 'Evaluation of release 2 against release 1' }).waitFor()
  const changes = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Count' }) })
  await changes.waitFor()
  for (const header of ['From', 'To', 'Count']) t.equal(await changes.getByRole('columnheader', { name: header, exact: true }).count(), 1)
  const rows = (await changes.getByRole('row').allInnerTexts()).slice(1).map((row) => row.split('\t'))
  t.same(rows, [[releaseLabel(1), releaseLabel(2), '3']], 'every red photo changed from release 1\'s label to release 2\'s')
  t.same(rows, evaluation.changes.map((c: { from: string, to: string, count: number }) => [c.from, c.to, String(c.count)]), 'as the API says')
  t.match(await page.getByRole('main').innerText(), /Top-1 agreement\s+0\.0 %/)
  await screenshot('evaluation')
  t.same(errors, [])
})

t.test('in headless Chromium a rollout is started and cancelled from the alias view, and a judged rollout shows its observations', async (t) => {
  const { stack, api, lambda } = await startEndToEnd(t)
  const { name: model, deployAlias: alias } = stack.info.model
  const aliasPath = `/v1/models/${model}/aliases/${alias}`
  const browser = await consoleBrowser(t)
  const { page, errors, screenshot } = await openConsole(t, browser, stack.info.endpoints.api)
  const status = page.getByRole('status')
  await signIn(page, stack.token)
  await page.goto(`${stack.info.endpoints.api}/ui/#/models/${model}/aliases/${alias}`)

  await page.getByRole('button', { name: 'Start rollout' }).click()
  await page.getByLabel('Release').fill('2')
  await page.getByLabel('Steps').fill('0.2, 0.6')
  await page.getByLabel('Step seconds').fill('3600')
  await page.getByLabel('Reason').fill('slowly')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await status.filter({ hasText: 'Rollout of release 2 started' }).waitFor()
  const running = succeeded(await api.get(`${aliasPath}/rollouts`), 'listing rollouts').rollouts[0]
  t.match(running, { release: 2, status: 'running', steps: [0.2, 0.6], stepSeconds: 3600, reason: 'slowly' })
  t.match(succeeded(await api.get(aliasPath), 'reading the alias'), { canary: { release: 2, weight: 0.2 } })

  await page.getByRole('button', { name: 'Cancel rollout' }).click()
  await page.getByRole('button', { name: 'Confirm' }).click()
  await status.filter({ hasText: 'cancelled' }).waitFor()
  t.match(succeeded(await api.get(`${aliasPath}/rollouts/${running.id as string}`), 'reading the rollout'), { status: 'cancelled' })
  t.match(succeeded(await api.get(aliasPath), 'reading the alias'), { release: 1, canary: null })

  // a short rollout judged on real invocations through the alias
  const revision = succeeded(await api.get(aliasPath), 'reading the alias').revision as number
  const judged = await api.post(`${aliasPath}/rollouts`, { release: 2, steps: [0.5], stepSeconds: 5, criteria: { minInvocations: 1 }, reason: 'judged' },
    { 'if-match': `"${revision}"` })
  t.equal(judged.status, 202, JSON.stringify(judged.body))
  const rolloutPath = `${aliasPath}/rollouts/${judged.body.id as string}`
  const deadline = Date.now() + 120_000
  let finished: any
  while (finished === undefined) {
    for (let i = 0; i < 5; i++) await invokeWithTestImage(lambda, stack)
    const now = succeeded(await api.get(rolloutPath), 'reading the rollout')
    if (now.status !== 'running') finished = now
    else if (Date.now() > deadline) throw new Error(`the rollout did not finish: ${JSON.stringify(now)}`)
  }
  t.ok(finished.observations.length >= 1, 'the rollout observed its step')

  await page.getByRole('button', { name: 'Refresh' }).click()
  const observations = page.getByRole('table', { name: 'Observations of the rollout of release 2' }).first()
  await observations.waitFor()
  const rows = (await observations.getByRole('row').allInnerTexts()).slice(1).map((row) => row.split('\t'))
  const first = finished.observations[0]
  t.same(rows[0]!.slice(0, 3), ['1', `${(first.weight * 100).toFixed(1)} %`, String(first.candidate.invocations)], 'step, weight and candidate invocations as the API says')
  await page.getByRole('heading', { name: new RegExp(`Rollout of release 2 over release 1: ${finished.status as string}`) }).first().waitFor()
  await screenshot('alias-rollouts')
  t.same(errors, [])
})
