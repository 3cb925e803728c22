import t from 'tap'
import { consoleBrowser, openConsole, signIn } from './helpers/browser.js'
import { startEndToEnd, succeeded } from './helpers/e2e.js'
import { textFile } from './helpers/images.js'

const ACTIONS = ['Promote', 'Roll back', 'Start canary', 'Promote canary', 'Abort canary', 'Start rollout', 'Cancel rollout']

t.test('the console page is static files under a same-origin Content-Security-Policy with no inline script or style', async (t) => {
  const { stack } = await startEndToEnd(t)
  await consoleBrowser(t) // builds the console when it is stale
  const api = stack.info.endpoints.api
  const page = await fetch(`${api}/ui/`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  const policy = page.headers.get('content-security-policy') ?? ''
  t.match(policy, /script-src 'self'/, 'scripts from the API only')
  t.match(policy, /connect-src 'self'/, 'calls to the API only')
  t.notMatch(policy, /unsafe-inline|unsafe-eval|https?:/, 'nothing inline, no eval, no other origin')
  const html = await page.text()
  t.notMatch(html, /<script(?![^>]*\bsrc=)/, 'no inline script')
  t.notMatch(html, /<style|\sstyle=/, 'no inline style')
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
  t.ok(assets.length >= 2, 'a script and a stylesheet')
  for (const asset of assets) {
    const answer = await fetch(new URL(asset, `${api}/ui/`))
    t.equal(answer.status, 200, `${asset} is served`)
    t.match(answer.headers.get('content-security-policy'), /script-src 'self'/)
  }
  const bare = await fetch(`${api}/ui`, { redirect: 'manual' })
  t.equal(bare.status, 308, '/ui redirects to /ui/')
  t.equal((await fetch(`${api}/ui/assets/..%2f..%2fpackage.json`)).status, 404, 'no path leaves the console\'s folder')
  t.equal((await fetch(`${api}/ui/assets/missing.js`)).status, 404)
})

t.test('in headless Chromium a bad token is refused, a viewer sees no action, and a rejected move shows the API message and a marked row, by keyboard', async (t) => {
  const { stack, api, photos: { bucket } } = await startEndToEnd(t, { photos: { 'gate/shopping-list.txt': textFile() } })
  const { name: model, deployAlias: alias } = stack.info.model
  const viewer = succeeded(await api.post('/v1/tokens', { name: 'console-viewer', role: 'viewer' }), 'minting a viewer').token as string
  const promoter = succeeded(await api.post('/v1/tokens', { name: 'console-promoter', role: 'promoter' }), 'minting a promoter').token as string
  const browser = await consoleBrowser(t)
  const { page, errors, screenshot } = await openConsole(t, browser, stack.info.endpoints.api)
  const status = page.getByRole('status')
  const alert = page.getByRole('alert')

  await signIn(page, 'mp_not-a-real-token')
  await alert.filter({ hasText: 'Sign-in failed: the bearer token is not known or was revoked (unauthorized, HTTP 401)' }).waitFor()
  t.equal(await page.evaluate(() => window.sessionStorage.getItem('modelpin.token')), null, 'a refused token is not kept')
  await page.getByLabel('Token').waitFor()
  await screenshot('sign-in-refused')

  // by keyboard only: the token, Enter, then links followed with Enter
  await page.getByLabel('Token').fill('')
  await page.getByLabel('Token').focus()
  await page.keyboard.type(viewer)
  await page.keyboard.press('Enter')
  await status.filter({ hasText: 'Signed in as console-viewer (viewer)' }).waitFor()
  await page.getByRole('link', { name: model, exact: true }).focus()
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: model }).waitFor()
  await page.getByRole('link', { name: alias, exact: true }).focus()
  await page.keyboard.press('Enter')
  await page.getByRole('heading', { level: 1, name: `${model} / ${alias}` }).waitFor()
  await page.getByRole('columnheader', { name: 'Outcome' }).waitFor()
  for (const action of ACTIONS) {
    t.equal(await page.getByRole('button', { name: action, exact: true }).count(), 0, `a viewer is not offered ${action}`)
  }
  await screenshot('alias-viewer')

  // a gate that rejects release 2: the API's message is shown and the history row is marked
  succeeded(await api.patch(`/v1/models/${model}`, { prewarm: 0, gateImages: [{ bucket, key: 'gate/shopping-list.txt' }] }), 'adding a gate image')
  await page.getByRole('button', { name: 'Sign out' }).click()
  await signIn(page, promoter)
  await status.filter({ hasText: 'Signed in as console-promoter (promoter)' }).waitFor()
  await page.getByRole('button', { name: 'Promote', exact: true }).focus()
  await page.keyboard.press('Enter')
  const release = page.getByLabel('Release')
  await release.waitFor()
  t.ok(await release.evaluate((element) => element === document.activeElement), 'the form opens with its first field focused')
  await page.keyboard.press('Control+A')
  await page.keyboard.type('2')
  await page.keyboard.press('Tab')
  t.ok(await page.getByLabel('Reason').evaluate((element) => element === document.activeElement), 'Tab goes on to Reason')
  await page.keyboard.type('gated from the console')
  await page.keyboard.press('Enter')
  await alert.filter({ hasText: 'Promote failed' }).waitFor()
  t.match(await alert.innerText(), /gate\/shopping-list\.txt.*InvalidImageError.*\(gate_rejected, HTTP 422\)/s, 'the API\'s own message and code')

  const history = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Outcome' }) })
  const rejected = history.getByRole('row').nth(1)
  await rejected.filter({ hasText: 'gated from the console' }).waitFor()
  t.equal((await rejected.getByRole('cell').allInnerTexts())[5], '⊘ rejected')
  const background = async (row: typeof rejected): Promise<string> =>
    await row.getByRole('cell').first().evaluate((cell) => getComputedStyle(cell).backgroundColor)
  t.not(await background(rejected), await background(history.getByRole('row').nth(2)), 'a rejected row looks different from a succeeded one')
  t.match(succeeded(await api.get(`/v1/models/${model}/aliases/${alias}`), 'reading the alias'), { release: 1 }, 'nothing moved')
  await screenshot('alias-rejected')
  t.same(errors, [], 'the page logged no error (no Content-Security-Policy violation either)')
})
