import t from 'tap'
import { build } from './helpers/app.js'

t.test('/healthz answers 200 without a token', async (t) => {
  const { api } = await build(t)
  const res = await api('GET', '/healthz', { token: null })
  t.equal(res.status, 200)
  t.same(res.body, { status: 'ok' })
})

t.test('/readyz answers 200 when the database and S3 both answer', async (t) => {
  const { api } = await build(t)
  const res = await api('GET', '/readyz', { token: null })
  t.equal(res.status, 200)
  t.same(res.body, { status: 'ok', checks: { database: 'ok', s3: 'ok' }, failed: [] })
})

t.test('/readyz answers 503 naming S3 when the S3 endpoint is wrong', async (t) => {
  const { api, config } = await build(t, {})
  const broken = await build(t, { config: { s3: { ...config.s3, endpoint: 'http://127.0.0.1:1' } } })
  const res = await broken.api('GET', '/readyz', { token: null })
  t.equal(res.status, 503)
  t.same(res.body, { status: 'unavailable', checks: { database: 'ok', s3: 'failed' }, failed: ['s3'] })
  t.equal((await api('GET', '/readyz', { token: null })).status, 200, 'the healthy app next to it stays ready')
})

t.test('/readyz answers 503 naming S3 when S3 does not know the credentials', async (t) => {
  const broken = await build(t, { s3Credentials: { accessKeyId: 'not-a-key', secretAccessKey: 'not-a-secret' } })
  const res = await broken.api('GET', '/readyz', { token: null })
  t.equal(res.status, 503)
  t.same(res.body.failed, ['s3'])
})

t.test('/metrics counts a request by method, route pattern and status', async (t) => {
  const { api } = await build(t)
  t.equal((await api('GET', '/v1/models')).status, 200)
  const res = await api('GET', '/metrics', { token: null })
  t.equal(res.status, 200)
  t.match(res.headers['content-type'], /^text\/plain/)
  t.match(res.text, /modelpin_http_requests_total\{method="GET",route="\/v1\/models",status_code="200"\} 1/)
  t.match(res.text, /modelpin_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v1\/models",status_code="200"\}/)
})

t.test('/docs/json is an OpenAPI document listing every route with its bearer scheme', async (t) => {
  const { api } = await build(t)
  const res = await api('GET', '/docs/json', { token: null })
  t.equal(res.status, 200)
  t.equal(res.body.openapi, '3.0.3')
  t.same(res.body.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: res.body.components.securitySchemes.bearerAuth.description })
  const paths = Object.keys(res.body.paths)
  t.ok(paths.includes('/healthz'))
  t.ok(paths.includes('/readyz'))
  t.ok(paths.includes('/metrics'))
  t.same(res.body.paths['/healthz'].get.security, undefined, 'health needs no token')
  const v1 = [
    ['post', '/v1/models'], ['get', '/v1/models'], ['get', '/v1/models/{model}'], ['patch', '/v1/models/{model}'],
    ['get', '/v1/models/{model}/artifacts/{kind}/versions'], ['put', '/v1/models/{model}/artifacts/{kind}'],
    ['post', '/v1/models/{model}/releases'], ['get', '/v1/models/{model}/releases'], ['get', '/v1/models/{model}/releases/{number}'],
    ['get', '/v1/models/{model}/aliases'], ['get', '/v1/models/{model}/aliases/{alias}'], ['post', '/v1/models/{model}/aliases/{alias}/promote'],
    ['post', '/v1/models/{model}/aliases/{alias}/rollback'], ['post', '/v1/models/{model}/aliases/{alias}/canary'],
    ['post', '/v1/models/{model}/aliases/{alias}/canary/promote'], ['delete', '/v1/models/{model}/aliases/{alias}/canary'],
    ['get', '/v1/models/{model}/aliases/{alias}/history'], ['post', '/v1/models/{model}/predict'], ['post', '/v1/tokens'],
  ]
  for (const [method, path] of v1) {
    const operation = res.body.paths[path!]?.[method!]
    t.ok(operation, `${method!.toUpperCase()} ${path} is documented`)
    t.same(operation?.security, [{ bearerAuth: [] }], `${method!.toUpperCase()} ${path} needs a bearer token`)
    t.ok(operation?.responses?.['401'], `${method!.toUpperCase()} ${path} documents 401`)
  }
  t.same(Object.keys(res.body.paths['/v1/models/{model}/aliases/{alias}/promote'].post.responses).sort(),
    ['200', '400', '401', '403', '404', '409', '412', '422', '502'])
  const ui = await api('GET', '/docs', { token: null })
  t.ok(ui.status === 200 || ui.status === 302, `the UI answers (${ui.status})`)
})

t.test('an unknown route answers 404 not_found in the error shape', async (t) => {
  const { api } = await build(t)
  const res = await api('GET', '/v1/nothing-here')
  t.equal(res.status, 404)
  t.same(res.body, { error: { code: 'not_found', message: 'no route GET /v1/nothing-here' } })
})
