import t from 'tap'
import { build } from './helpers/app.js'

const cases = [
  { why: 'an unknown model', token: 'admin', code: 'model_not_found', status: 404 },
  { why: 'a wrong token', token: 'not-a-token-of-this-api', code: 'unauthorized', status: 401 },
]

for (const refusal of cases) {
  t.test(`an upload refused for ${refusal.why} before its body is read is answered while the client still sends, and closing the app does not wait for the rest`, async (t) => {
    // before, app.close() waited for the half-sent connection until the keep-alive timeout (72 s): over this limit
    t.setTimeout(60_000)
    const { app, adminToken } = await build(t)
    const token = refusal.token === 'admin' ? adminToken : refusal.token
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    // streamed as the CLI streams a file: a client still sending when the answer comes must be able to read it
    const size = 16 * 2 ** 20
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull (controller) {
        if (sent >= size) { controller.close(); return }
        controller.enqueue(new Uint8Array(2 ** 20).fill(7))
        sent += 2 ** 20
      },
    })
    const response = await fetch(`http://127.0.0.1:${port}/v1/models/no-such-model/artifacts/weights`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      body,
      duplex: 'half',
    } as RequestInit)
    t.equal(response.status, refusal.status)
    t.match(await response.json(), { error: { code: refusal.code } })
    await app.close()
    t.pass('the app closed')
  })
}
