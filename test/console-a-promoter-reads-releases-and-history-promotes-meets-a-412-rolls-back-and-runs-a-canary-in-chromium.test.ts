import t from 'tap'
import { consoleBrowser, openConsole, signIn } from './helpers/browser.js'
import { startEndToEnd, succeeded } from './helpers/e2e.js'

t.test('in headless Chromium a promoter signs in, reads releases and history, promotes, meets a 412, rolls back and runs a canary', async (t) => {
  const { stack, api, releases } = await startEndToEnd(t)
  const { name: model, deployAlias: alias } = stack.info.model
  const aliasPath = `/v1/models/${model}/aliases/${alias}`
  const promoter = succeeded(await api.post('/v1/tokens', { name: 'console-promoter', role: 'promoter' }), 'minting a promoter').token as string
  const browser = await consoleBrowser(t)
  const { page, errors, requests, screenshot } = await openConsole(t, browser, stack.info.endpoints.api)
  const status = page.getByRole('status')
  const alert = page.getByRole('alert')

  await signIn(page, promoter)
  await status.filter({ hasText: 'Signed in as console-promoter (promoter)' }).waitFor()
  t.equal(await page.evaluate(() => window.sessionStorage.getItem('modelpin.token')), promoter, 'the token is kept in session storage')
  t.notMatch(page.url(), promoter, 'and never in the URL')
  await screenshot('models')

  await page.getByRole('link', { name: model, exact: true }).click()
  await page.getByRole('heading', { level: 1, name: model }).waitFor()
  const releaseTable = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Weights VersionId' }) })
  for (const release of releases) {
    const row = releaseTable.getByRole('row').filter({ has: page.getByRole('rowheader', { name: String(release.number), exact: true }) })
    await row.waitFor()
    const text = await row.innerText()
    t.match(text, release.weightsVersionId, `release ${release.number} shows its weights VersionId`)
    t.match(text, release.labelsVersionId, 'and its labels VersionId')
    t.match(text, release.weightsSha256.slice(0, 12), 'and the prefix of its weights sha256')
  }
  const aliasRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: alias, exact: true }) })
  t.match(await aliasRow.innerText(), /version \d+ \(release 1\)/, 'the alias row shows what Lambda serves')
  await screenshot('model')

  await page.getByRole('link', { name: alias, exact: true }).click()
  await page.getByRole('heading', { level: 1, name: `${model} / ${alias}` }).waitFor()
  const serving = page.getByRole('region', { name: 'Serving' })
  const history = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Outcome' }) })
  // the history loads after the heading: wait for its table before counting its headers
  await history.waitFor()
  for (const header of ['Action', 'From', 'To', 'Outcome']) {
    t.equal(await history.getByRole('columnheader', { name: header, exact: true }).count(), 1, `the history has a column ${header}`)
  }
  const start = succeeded(await api.get(aliasPath), 'reading the alias')
  t.match(await serving.innerText(), new RegExp(`Revision\\s+${start.revision as number}`), 'the page shows the revision it will send as If-Match')

  // a form closes with Escape
  await page.getByRole('button', { name: 'Roll back' }).click()
  await page.getByLabel('Reason').waitFor()
  await page.keyboard.press('Escape')
  await page.getByLabel('Reason').waitFor({ state: 'detached' })

  // promote with a reason: the history's newest row is the move
  await page.getByRole('button', { name: 'Promote', exact: true }).click()
  await page.getByLabel('Release').fill('2')
  await page.getByLabel('Reason').fill('release 2 from the console')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await status.filter({ hasText: `Promoted ${alias} to release 2 (revision ${start.revision + 1 as number})` }).waitFor()
  t.ok(await page.getByRole('button', { name: 'Promote', exact: true }).evaluate((element) => element === document.activeElement),
    'the focus goes back to the actions once the form closes')
  const newest = history.getByRole('row').nth(1)
  await newest.filter({ hasText: 'release 2 from the console' }).waitFor()
  t.same((await newest.getByRole('cell').allInnerTexts()).slice(1, 6), ['console-promoter', 'promote', '1', '2', '✓ succeeded'],
    'the newest history row: actor, action, from, to, outcome')
  t.match(succeeded(await api.get(aliasPath), 'reading the alias'), { release: 2, revision: start.revision + 1, live: { release: 2 }, drift: false },
    'the API and Lambda agree')

  // someone else moves the alias behind the page: the page's If-Match is stale
  const behind = succeeded(await api.post(`${aliasPath}/rollback`, { reason: 'behind the page' }), 'rolling back behind the page')
  t.equal(behind.release, 1)
  await page.getByRole('button', { name: 'Promote', exact: true }).click()
  await page.getByLabel('Release').fill('2')
  await page.getByLabel('Reason').fill('from a stale page')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await alert.filter({ hasText: `Someone else moved ${alias}` }).waitFor()
  t.match(await alert.innerText(), `it now serves release 1 at revision ${behind.revision as number}`, 'the 412 names the new state')
  await serving.filter({ hasText: new RegExp(`Revision\\s*${behind.revision as number}(?!\\d)`) }).waitFor()
  await history.getByRole('row').nth(1).filter({ hasText: 'behind the page' }).waitFor()
  t.match(succeeded(await api.get(aliasPath), 'reading the alias'), { release: 1, revision: behind.revision }, 'the stale move changed nothing')
  await screenshot('alias-after-412')

  // roll back without a release: to where the last move came from (2)
  await page.getByRole('button', { name: 'Roll back' }).click()
  await page.getByLabel('Reason').fill('back to 2 from the console')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await status.filter({ hasText: `Rolled back ${alias} to release 2` }).waitFor()
  await history.getByRole('row').nth(1).filter({ hasText: 'back to 2 from the console' }).waitFor()
  t.match(succeeded(await api.get(aliasPath), 'reading the alias'), { release: 2, live: { release: 2 } })

  // a canary of release 1 at 0.3, then aborted
  await page.getByRole('button', { name: 'Start canary' }).click()
  await page.getByLabel('Release').fill('1')
  await page.getByLabel('Weight').fill('0.3')
  await page.getByLabel('Reason').fill('try 1 on a third')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await status.filter({ hasText: 'Canary started' }).waitFor()
  const canaried = succeeded(await api.get(aliasPath), 'reading the alias')
  t.match(canaried, { release: 2, canary: { release: 1, weight: 0.3 }, live: { canary: { release: 1, weight: 0.3 } } }, 'Lambda sends 0.3 to release 1')
  await serving.filter({ hasText: 'release 1 at 30.0 %' }).waitFor()
  t.equal(await page.getByRole('button', { name: 'Start canary' }).count(), 0, 'no second canary is offered while one runs')
  await screenshot('alias-canary')

  await page.getByRole('button', { name: 'Abort canary' }).click()
  await page.getByLabel('Reason').fill('enough')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await status.filter({ hasText: `Canary aborted: ${alias} serves release 2 only` }).waitFor()
  t.match(succeeded(await api.get(aliasPath), 'reading the alias'), { release: 2, canary: null, live: { canary: null } })
  await page.getByRole('button', { name: 'Start canary' }).waitFor()
  const actions = (await history.getByRole('row').allInnerTexts()).slice(1, 6).map((row) => row.split('\t')[2])
  t.same(actions, ['canary-abort', 'canary-start', 'rollback', 'rollback', 'promote'], 'the history, newest first')
  await screenshot('alias')

  t.same(errors, [], 'the page logged no error (no Content-Security-Policy violation either)')
  const origin = new URL(stack.info.endpoints.api).origin
  t.same(requests.filter((url) => new URL(url).origin !== origin), [], 'the page requested nothing beyond the API')
})
