import { connect } from 'node:net'
import { once } from 'node:events'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import t from 'tap'
import { startApiServer } from '../src/api/server.js'
import { build } from './helpers/app.js'

t.test('an upload whose body stalls holds the stop only until the drain limit, then its connection is closed', async (t) => {
  const { config, adminToken, createModel } = await build(t)
  t.equal((await createModel('resnet')).status, 201)
  // the app's log tells when the request has arrived (its first hook counts it as in flight at once)
  let arrived!: () => void
  const arrival = new Promise<void>((resolve) => { arrived = resolve })
  const logger = pino({ level: 'info' }, new Writable({
    write (chunk: Buffer, _encoding, callback) {
      if ((JSON.parse(chunk.toString('utf8')) as { msg?: string }).msg === 'incoming request') arrived()
      callback()
    },
  }))
  const server = await startApiServer(config, { logger })
  t.teardown(() => server.close({ drainLimitMs: 0 }))
  const { port } = new URL(server.url)
  const socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {}) // the server resets it: expected
  // the headers and the first bytes of a body that never ends
  socket.write(`PUT /v1/models/resnet/artifacts/weights HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${adminToken}\r\n` +
    'content-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\nfirst bytes')
  await arrival

  const started = Date.now()
  await server.close({ drainLimitMs: 300 })
  const took = Date.now() - started
  t.ok(took >= 250, `the stop waited for the request in flight (${took} ms)`)
  await closed
  t.pass('then its connection was closed')
})
