import t from 'tap'
import { AUTH_FAILURE_WINDOW_MS, AuthFailures } from '../src/api/auth-failures.js'
import { build } from './helpers/app.js'

const LIMIT = 5

t.test('past the limit an address gets 429 with Retry-After, and its valid token is still served', async (t) => {
  const { api } = await build(t, { config: { authFailuresPerMinute: LIMIT } })
  for (let n = 1; n <= LIMIT; n++) {
    const refused = await api('GET', '/v1/models', { token: `wrong-token-${n}` })
    t.equal(refused.status, 401, `failure ${n} is a 401`)
  }
  const limited = await api('GET', '/v1/models', { token: 'wrong-token-again' })
  t.equal(limited.status, 429)
  t.equal(limited.body.error.code, 'rate_limited')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter} s is within the window`)
  t.equal((await api('GET', '/v1/models', { token: null })).status, 429, 'no token at all is a failure too')

  const served = await api('GET', '/v1/models')
  t.equal(served.status, 200, 'the admin token from the same address is served')
  t.equal((await api('GET', '/healthz', { token: null })).status, 200, 'routes without a token are not limited')
})

t.test('the window slides: failures older than 60 s no longer count', async (t) => {
  const failures = new AuthFailures(2)
  const start = 1_000_000
  t.equal(failures.fail('10.0.0.1', start), null)
  t.equal(failures.fail('10.0.0.1', start + 1000), null)
  t.equal(failures.fail('10.0.0.1', start + 2000), 58, 'the third within the window is limited until the first leaves it')
  t.equal(failures.fail('10.0.0.2', start + 2000), null, 'another address has its own count')
  t.equal(failures.fail('10.0.0.1', start + AUTH_FAILURE_WINDOW_MS + 2500), null, 'a minute later only the newer ones count')
})

t.test('the addresses tracked are bounded', async (t) => {
  const failures = new AuthFailures(1)
  for (let n = 0; n < 10_050; n++) failures.fail(`10.1.${n >> 8}.${n & 255}`, 1000 + n)
  t.equal(failures.size, 10_000)
})
