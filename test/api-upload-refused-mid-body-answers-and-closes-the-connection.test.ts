import t from 'tap'
import { request } from 'node:http'
import { build } from './helpers/app.js'

const cases = [
  { why: 'an unknown model', token: 'admin', code: 'model_not_found', status: 404 },
  { why: 'a wrong token', token: 'not-a-token-of-this-api', code: 'unauthorized', status: 401 },
]

for (const refusal of cases) {
  t.test(`an upload refused for ${refusal.why} before its body is read is answered, and the server closes that connection`, async (t) => {
    const { app, adminToken } = await build(t)
    const token = refusal.token === 'admin' ? adminToken : refusal.token
    await app.listen({ host: '127.0.0.1', port: 0 })
    const { port } = app.server.address() as { port: number }
    const size = 16 * 2 ** 20
    let socketClosed!: Promise<void>
    const answer = await new Promise<{ status: number | undefined, connection: string | undefined, body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: '/v1/models/no-such-model/artifacts/weights',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      }, (res) => {
        socketClosed = new Promise((resolve) => res.socket.once('close', () => resolve()))
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => { body += chunk })
        res.on('end', () => resolve({ status: res.statusCode, connection: res.headers.connection, body }))
      })
      req.on('error', (error: NodeJS.ErrnoException) => {
      // the server may close while the rest of the body is still being written: that is the point
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error)
      })
      const chunk = Buffer.alloc(2 ** 20, 7)
      let sent = 0
      const write = (): void => {
        while (sent < size) {
          sent += chunk.length
          if (!req.write(chunk)) { req.once('drain', write); return }
        }
        req.end()
      }
      write()
    })
    t.equal(answer.status, refusal.status)
    t.match(JSON.parse(answer.body), { error: { code: refusal.code } })
    t.equal(answer.connection, 'close')
    // the server ends the connection itself; before, it stayed open with a half-read body until the keep-alive
    // timeout (72 s), and app.close() waited for it
    await socketClosed
    t.pass('the server closed the connection')
    await app.close()
  })
}
