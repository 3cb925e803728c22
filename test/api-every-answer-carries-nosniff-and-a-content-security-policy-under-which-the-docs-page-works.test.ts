import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium } from 'playwright-core'
import { CONTENT_SECURITY_POLICY } from '../src/api/plugins/app/security-headers.js'
import { build } from './helpers/app.js'

/** Chromium from Debian's package; the browser check is skipped (and says so) where there is none. */
const CHROMIUM = process.env.MODELPIN_TEST_CHROMIUM ?? '/usr/bin/chromium'

t.test('every kind of answer carries the headers', async (t) => {
  const app = await build(t)
  const created = await app.createModel('headers')
  const minted = await app.api('POST', '/v1/tokens', { body: { name: 'headers', role: 'viewer' } })
  const docs = await app.api('GET', '/docs/', { token: null })
  const script = /<script src="([^"]+\.js)"/.exec(docs.text)?.[1]
  t.ok(script, 'the docs page loads a script of its own')
  const answers = {
    'a create (201)': created,
    'a revoke (204)': await app.api('DELETE', `/v1/tokens/${minted.body.id as string}`),
    'a read (200)': await app.api('GET', '/v1/models'),
    'no token (401)': await app.api('GET', '/v1/models', { token: null }),
    'a bad body (400)': await app.api('POST', '/v1/models', { body: { name: 'x' } }),
    'no route (404)': await app.api('GET', '/nowhere', { token: null }),
    'a name the router refuses (400)': await app.api('GET', `/v1/models/${'x'.repeat(300)}`),
    'a bad percent-encoding (400)': await app.api('GET', '/v1/models/%E0%A4%A'),
    '/healthz': await app.api('GET', '/healthz', { token: null }),
    '/metrics': await app.api('GET', '/metrics', { token: null }),
    '/docs': await app.api('GET', '/docs', { token: null }),
    '/docs/': docs,
    '/docs/json': await app.api('GET', '/docs/json', { token: null }),
    'a docs script': await app.api('GET', `/docs/${script!.replace(/^\.\//, '')}`, { token: null }),
  }
  for (const [what, answer] of Object.entries(answers)) {
    t.equal(answer.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
    t.equal(answer.headers['content-security-policy'], CONTENT_SECURITY_POLICY, `${what}: the policy`)
    t.equal(answer.headers['x-powered-by'], undefined, `${what}: no X-Powered-By`)
  }
  t.equal(answers['a docs script'].status, 200)
  for (const what of ['a name the router refuses (400)', 'a bad percent-encoding (400)'] as const) {
    t.match(answers[what], { status: 400, body: { error: { code: 'invalid_input', message: /\S/ } } }, `${what}: the API's error shape`)
  }
  t.notMatch(docs.text, /<script>(?!\s*<\/script>)|<script[^>]*>[^<\s]/, 'the docs page has no inline script (the policy would block it)')
  t.notMatch(docs.text, /https?:\/\//, 'nor anything from another origin')
  t.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/)
  t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|https?:/, 'no inline or remote exception')
})

t.test('in Chromium, the docs page renders the API under the policy without a violation', { skip: existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}` }, async (t) => {
  const app = await build(t)
  await app.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.app.server.address() as { port: number }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const violations: string[] = []
  const external: string[] = []
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()) })
  page.on('request', (request) => { if (!request.url().startsWith(`http://127.0.0.1:${port}/`) && !request.url().startsWith('data:')) external.push(request.url()) })
  await page.goto(`http://127.0.0.1:${port}/docs/`)
  const title = page.locator('.swagger-ui .info .title')
  await title.waitFor({ timeout: 30_000 })
  t.match(await title.textContent(), /modelpin admin API/)
  await page.locator('.opblock-tag', { hasText: 'tokens' }).first().waitFor({ timeout: 30_000 })
  t.same(violations, [], 'no Content Security Policy violation')
  t.same(external, [], 'nothing requested from another origin')
})
