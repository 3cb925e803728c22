import { createHash, randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import path from 'node:path'
import t from 'tap'
import { EXIT_CODES, main } from '../src/cli/main.js'
import { captureIo, emptyDirectory, startRecordingServer } from './helpers/cli.js'

// These tests check the CLI's own HTTP against a server that records what arrives: paths, methods, headers and
// bodies as the admin API's contract (README, section 4) gives them, for the commands that need a Lambda-backed
// stack (canary, predict) and for how answers are read. The commands against the real API are tested in
// cli-commands-*.test.ts.

async function cli (t: Parameters<typeof captureIo>[0], url: string, argv: string[], stderrIsTTY = false) {
  const captured = await captureIo(t, { env: { MODELPIN_API_URL: url, MODELPIN_TOKEN: 'tok-1' }, stderrIsTTY })
  const code = await main(argv, captured.io)
  return { code, stdout: captured.stdout(), stderr: captured.stderr() }
}

function json (body: Buffer): unknown {
  return JSON.parse(body.toString('utf8'))
}

t.test('canary start, promote and abort send the contract\'s requests with If-Match', async (t) => {
  const alias = { alias: 'production', release: 1, revision: 5, canary: { release: 2, weight: 0.25 }, drift: false }
  const server = await startRecordingServer(t, () => ({ status: 200, body: alias }))

  const start = await cli(t, server.url, ['canary', 'resnet50', 'production', 'start', '2', '--weight', '25%', '--if-match', '"4"'])
  t.equal(start.code, EXIT_CODES.ok)
  const [startRequest] = server.requests
  t.equal(startRequest?.method, 'POST')
  t.equal(startRequest?.url, '/v1/models/resnet50/aliases/production/canary')
  t.equal(startRequest?.headers['if-match'], '"4"')
  t.equal(startRequest?.headers.authorization, 'Bearer tok-1')
  t.equal(startRequest?.headers['content-type'], 'application/json')
  t.same(json(startRequest!.body), { release: 2, weight: 0.25 })
  t.match(start.stdout, /^canary: +release 2 at 25%$/m)
  t.match(start.stdout, /^drift: +no$/m)

  const promote = await cli(t, server.url, ['canary', 'resnet50', 'production', 'promote'])
  t.equal(promote.code, EXIT_CODES.ok)
  t.equal(server.requests[1]?.method, 'POST')
  t.equal(server.requests[1]?.url, '/v1/models/resnet50/aliases/production/canary/promote')
  t.equal(server.requests[1]?.headers['if-match'], undefined)
  t.same(json(server.requests[1]!.body), {})

  const abort = await cli(t, server.url, ['canary', 'resnet50', 'production', 'abort', '--if-match', '6', '--reason', 'errors up'])
  t.equal(abort.code, EXIT_CODES.ok)
  t.equal(server.requests[2]?.method, 'DELETE')
  t.equal(server.requests[2]?.url, '/v1/models/resnet50/aliases/production/canary')
  t.equal(server.requests[2]?.headers['if-match'], '"6"')
  t.same(json(server.requests[2]!.body), { reason: 'errors up' })
})

t.test('rollout start, status and cancel send the contract\'s requests and print the observations as a table', async (t) => {
  const rollout = {
    id: 'r-1',
    model: 'resnet50',
    alias: 'production',
    release: 3,
    stableRelease: 2,
    status: 'aborted',
    failure: 'maxErrorRate: 0.2 vs 0.01',
    steps: [0.1, 0.5],
    currentStep: 0,
    stepSeconds: 300,
    criteria: { maxErrorRate: 0.01, maxLatencyRatio: null, minInvocations: 20 },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:08:00.000Z',
    actor: 'ops',
    reason: null,
    observations: [{ step: 0, weight: 0.1, candidate: { invocations: 40, errors: 8, p95Ms: 31.2 }, stable: { invocations: 360, errors: 0, p95Ms: 30 }, passed: false, violations: ['maxErrorRate: 0.2 vs 0.01'] }],
  }
  const server = await startRecordingServer(t, (request) => request.method === 'GET' && request.url.endsWith('/rollouts')
    ? { status: 200, body: { rollouts: [rollout] } }
    : { status: request.method === 'POST' ? 202 : 200, body: rollout })

  const start = await cli(t, server.url, ['rollout', 'resnet50', 'production', 'start', '3', '--steps', '10%,50%', '--step', '5m', '--max-error-rate', '0.01', '--if-match', '7'])
  t.equal(start.code, EXIT_CODES.ok)
  t.equal(server.requests[0]?.method, 'POST')
  t.equal(server.requests[0]?.url, '/v1/models/resnet50/aliases/production/rollouts')
  t.equal(server.requests[0]?.headers['if-match'], '"7"')
  t.same(json(server.requests[0]!.body), { release: 3, steps: [0.1, 0.5], stepSeconds: 300, criteria: { maxErrorRate: 0.01 } })

  const status = await cli(t, server.url, ['rollout', 'resnet50', 'production', 'status'])
  t.equal(status.code, EXIT_CODES.ok)
  t.equal(server.requests[1]?.url, '/v1/models/resnet50/aliases/production/rollouts', 'without an id: the newest rollout')
  t.equal(server.requests[2]?.url, '/v1/models/resnet50/aliases/production/rollouts/r-1')
  t.match(status.stdout, /^steps: +10%, 50%$/m)
  t.match(status.stdout, /^STEP +WEIGHT +CAND INV +CAND ERR +CAND P95 +STABLE INV +STABLE ERR +STABLE P95 +PASSED +VIOLATIONS$/m)
  t.match(status.stdout, /^ +1 +10% +40 +8 +31 ms +360 +0 +30 ms +no +maxErrorRate: 0\.2 vs 0\.01$/m)

  const cancel = await cli(t, server.url, ['rollout', 'resnet50', 'production', 'cancel', 'r-1', '--reason', 'not today'])
  t.equal(cancel.code, EXIT_CODES.ok)
  t.equal(server.requests[3]?.method, 'DELETE')
  t.equal(server.requests[3]?.url, '/v1/models/resnet50/aliases/production/rollouts/r-1')
  t.same(json(server.requests[3]!.body), { reason: 'not today' })
})

t.test('predict sends a local file as base64 and an S3 image as its location, with the release or alias', async (t) => {
  const answer = {
    predictions: [{ index: 3, label: 'tiger shark', score: 0.875 }, { index: 0, label: 'tench', score: 0.125 }],
    model: { bucket: 'm', weightsKey: 'w', weightsVersionId: 'wv', labelsKey: 'l', labelsVersionId: 'lv' },
    environment: { id: 'e1', coldStart: false },
  }
  const server = await startRecordingServer(t, () => ({ status: 200, body: answer }))
  const image = randomBytes(3000)
  const file = path.join(await emptyDirectory(t), 'cat.jpg')
  await writeFile(file, image)

  const fromFile = await cli(t, server.url, ['predict', 'resnet50', '--file', file, '--release', '1', '--top-k', '2'])
  t.equal(fromFile.code, EXIT_CODES.ok)
  t.equal(server.requests[0]?.method, 'POST')
  t.equal(server.requests[0]?.url, '/v1/models/resnet50/predict')
  t.same(json(server.requests[0]!.body), { image: { base64: image.toString('base64') }, release: 1, topK: 2 })
  t.match(fromFile.stdout, /^RANK +LABEL +SCORE +INDEX\n +1 +tiger shark +0\.8750 +3\n +2 +tench +0\.1250 +0\n/)
  t.match(fromFile.stdout, /^model\.weightsVersionId: +wv$/m)

  const fromS3 = await cli(t, server.url, ['predict', 'resnet50', '--s3', 'input/cats/1.jpg@v9', '--alias', 'staging', '--json'])
  t.equal(fromS3.code, EXIT_CODES.ok)
  t.same(json(server.requests[1]!.body), { image: { bucket: 'input', key: 'cats/1.jpg', versionId: 'v9' }, alias: 'staging' })
  t.same(JSON.parse(fromS3.stdout), answer, '--json prints the API\'s body')

  await cli(t, server.url, ['predict', 'resnet50', '--s3', 'input/cats/1.jpg'])
  t.same(json(server.requests[2]!.body), { image: { bucket: 'input', key: 'cats/1.jpg' } },
    'without --release or --alias the API picks the deploy alias')
})

t.test('an upload streams the file with its length and draws progress on a terminal', async (t) => {
  const server = await startRecordingServer(t, (request) => ({
    status: 201,
    body: {
      versionId: 'v-1',
      size: request.body.length,
      sha256: createHash('sha256').update(request.body).digest('hex'),
    },
  }))
  const bytes = randomBytes(3 * 1024 * 1024 + 17)
  const file = path.join(await emptyDirectory(t), 'model.onnx')
  await writeFile(file, bytes)

  const result = await cli(t, server.url, ['upload', 'resnet 50', 'weights', file], true)
  t.equal(result.code, EXIT_CODES.ok, result.stderr)
  const [request] = server.requests
  t.equal(request?.method, 'PUT')
  t.equal(request?.url, '/v1/models/resnet%2050/artifacts/weights', 'path segments are encoded')
  t.equal(request?.headers['content-length'], String(bytes.length))
  t.equal(request?.headers['content-type'], 'application/octet-stream')
  t.ok(request?.body.equals(bytes), 'the bytes arrive unchanged')
  t.match(result.stdout, /^versionId: v-1$/m)
  t.match(result.stdout, new RegExp(`^size: +${bytes.length} \\(3\\.0 MiB\\)$`, 'm'))
  t.match(result.stdout, new RegExp(`^sha256: +${createHash('sha256').update(bytes).digest('hex')}$`, 'm'))
  const lastFrame = result.stderr.split('\r').at(-1)
  t.match(lastFrame, /^\[=+\] 100% {2}3\.0 MiB \/ 3\.0 MiB {2}[\d.]+ \S*B\/s/, 'the bar ends at 100%')
  t.ok(lastFrame?.endsWith('\u001b[K\n'), 'on a line of its own, cleared to its end')

  const quiet = await cli(t, server.url, ['upload', 'm', 'labels', file])
  t.equal(quiet.code, EXIT_CODES.ok)
  t.equal(quiet.stderr, '', 'no bar when stderr is not a terminal')
})

t.test('each error status maps to its exit code and prints the API\'s code and message', async (t) => {
  const cases: Array<[number, number]> = [
    [400, EXIT_CODES.rejected], [401, EXIT_CODES.auth], [403, EXIT_CODES.auth], [404, EXIT_CODES.notFound],
    [409, EXIT_CODES.conflict], [412, EXIT_CODES.conflict], [415, EXIT_CODES.error], [422, EXIT_CODES.rejected],
    [500, EXIT_CODES.error], [502, EXIT_CODES.unavailable], [503, EXIT_CODES.unavailable],
  ]
  for (const [status, exitCode] of cases) {
    const server = await startRecordingServer(t, () => ({
      status, body: { error: { code: `code_${status}`, message: `message ${status}` } },
    }))
    const result = await cli(t, server.url, ['model', 'resnet50', '--json'])
    t.equal(result.code, exitCode, `${status} exits ${exitCode}`)
    t.equal(result.stderr, `error: code_${status}: message ${status}\n`)
    t.equal(result.stdout, '', 'stdout stays empty on an error, even with --json')
  }
})

t.test('an error body that is not the API\'s shape still gets a code from its status', async (t) => {
  const server = await startRecordingServer(t, () => ({ status: 502, text: '<html>Bad Gateway</html>' }))
  const result = await cli(t, server.url, ['models'])
  t.equal(result.code, EXIT_CODES.unavailable)
  t.equal(result.stderr, 'error: http_502: Bad Gateway (<html>Bad Gateway</html>)\n')
})

t.test('a success that is not JSON is unexpected (exit 1): probably not a modelpin API', async (t) => {
  const server = await startRecordingServer(t, () => ({ status: 200, text: '<html>hello</html>' }))
  const result = await cli(t, server.url, ['models'])
  t.equal(result.code, EXIT_CODES.error)
  t.match(result.stderr, /^error: unexpected_response: GET http:\/\/127\.0\.0\.1:\d+\/v1\/models answered 200 with a body that is not JSON/)
})

t.test('--json prints the body exactly as the API sent it', async (t) => {
  const text = '{"models":[{"name":"a","bucket":"b"}],"extra":  1}'
  const server = await startRecordingServer(t, () => ({ status: 200, text }))
  const result = await cli(t, server.url, ['models', '--json'])
  t.equal(result.stdout, text + '\n')
})

t.test('versions --all follows nextCursor and merges the pages; one page hints at the next', async (t) => {
  const pages: Record<string, unknown> = {
    '': { versions: [{ versionId: 'c', isLatest: true }, { versionId: 'b' }], nextCursor: 'p2' },
    p2: { versions: [{ versionId: 'a', deleteMarker: true }], nextCursor: null },
  }
  const server = await startRecordingServer(t, (request) => {
    const cursor = new URL(request.url, 'http://x').searchParams.get('cursor') ?? ''
    return { status: 200, body: pages[cursor] }
  })
  const all = await cli(t, server.url, ['versions', 'resnet50', 'weights', '--limit', '2', '--all', '--json'])
  t.equal(all.code, EXIT_CODES.ok)
  t.same(server.requests.map((r) => r.url), [
    '/v1/models/resnet50/artifacts/weights/versions?limit=2',
    '/v1/models/resnet50/artifacts/weights/versions?limit=2&cursor=p2',
  ])
  t.same(JSON.parse(all.stdout), {
    versions: [{ versionId: 'c', isLatest: true }, { versionId: 'b' }, { versionId: 'a', deleteMarker: true }],
    nextCursor: null,
  })

  const one = await cli(t, server.url, ['versions', 'resnet50', 'weights', '--limit', '2'])
  t.match(one.stdout, /^VERSION ID +LATEST +LAST MODIFIED +SIZE +SHA256\nc +yes/)
  t.equal(one.stderr, 'more versions: --cursor p2, or --all\n')
})

t.test('no token means no Authorization header; the API decides', async (t) => {
  const server = await startRecordingServer(t, () => ({ status: 401, body: { error: { code: 'unauthorized', message: 'no token' } } }))
  const captured = await captureIo(t, { env: { MODELPIN_API_URL: server.url } })
  t.equal(await main(['models'], captured.io), EXIT_CODES.auth)
  t.equal(server.requests[0]?.headers.authorization, undefined)
})

t.test('an API that is not listening exits 7 and says where the URL came from', async (t) => {
  const port = await closedPort()
  const captured = await captureIo(t, { env: { MODELPIN_API_URL: `http://127.0.0.1:${port}` } })
  t.equal(await main(['models'], captured.io), EXIT_CODES.unavailable)
  t.equal(captured.stderr(),
    `error: unreachable: cannot reach the modelpin API at http://127.0.0.1:${port} (from MODELPIN_API_URL): ` +
    `connect ECONNREFUSED 127.0.0.1:${port}\n`)
})

/** A port that was just free: listened on, then closed, so connecting to it is refused. */
async function closedPort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

t.test('an upload the server answers before reading it stops sending, and the next request goes through', async (t) => {
  // Like an API that refuses an upload after its first chunk (unknown model) and leaves the rest unread.
  const server = createHttpServer((req, res) => {
    if (req.method === 'GET') {
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[]}')
      return
    }
    req.once('data', () => {
      req.pause()
      res.writeHead(404, { 'content-type': 'application/json' })
        .end('{"error":{"code":"model_not_found","message":"there is no model nope"}}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const file = path.join(await emptyDirectory(t), 'big.onnx')
  await writeFile(file, Buffer.alloc(64 * 1024 * 1024))

  const upload = await cli(t, url, ['upload', 'nope', 'weights', file])
  t.equal(upload.code, EXIT_CODES.notFound)
  t.equal(upload.stderr, 'error: model_not_found: there is no model nope\n')
  const next = await cli(t, url, ['models', '--json'])
  t.equal(next.code, EXIT_CODES.ok, next.stderr)
  t.equal(next.stdout, '{"models":[]}\n')
})
