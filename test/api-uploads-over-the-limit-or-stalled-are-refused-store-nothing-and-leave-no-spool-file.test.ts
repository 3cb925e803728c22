import { request as httpRequest, type IncomingMessage } from 'node:http'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { build, type TestApp } from './helpers/app.js'

const MAX_BYTES = 64 * 1024

/** Every file under the app's spool root (its per-process folder included). */
async function spoolFiles (app: TestApp): Promise<string[]> {
  const found: string[] = []
  for (const entry of await readdir(app.config.uploadTmpDir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.startsWith('modelpin-upload-')) found.push(join(entry.parentPath, entry.name))
  }
  return found
}

interface RawAnswer { status: number, headers: IncomingMessage['headers'], body: any }

/** A PUT over a real connection whose body the test writes by hand (`send`), with no Content-Length unless given. */
async function rawUpload (url: string, token: string, send: (write: (chunk: Buffer) => boolean) => Promise<void> | void, headers: Record<string, string> = {}): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) }) })
    })
    // the server answers and closes while this side may still write: that is the point, not a failure
    request.on('error', (error) => { if (!request.destroyed || (error as NodeJS.ErrnoException).code !== 'EPIPE') reject(error) })
    Promise.resolve(send((chunk) => request.write(chunk))).catch(reject)
  })
}

t.test('uploads are bounded in size and in silence, and a refused one leaves nothing behind', async (t) => {
  const app = await build(t, { config: { maxUploadBytes: MAX_BYTES, bodyTimeoutMs: 400 } })
  t.equal((await app.createModel('bounded')).status, 201)
  await app.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.app.server.address() as { port: number }
  const url = `http://127.0.0.1:${port}/v1/models/bounded/artifacts/weights`

  t.test('by Content-Length: refused before the body is read', async (t) => {
    const answer = await app.upload('bounded', 'weights', Buffer.alloc(MAX_BYTES + 1, 1))
    t.equal(answer.status, 413)
    t.equal(answer.body.error.code, 'payload_too_large')
    t.equal(await app.versionCount(), 0, 'nothing stored')
    t.same(await spoolFiles(app), [], 'no spool file')
  })

  t.test('mid-stream: a chunked body that passes the limit', async (t) => {
    const answer = await rawUpload(url, app.adminToken, async (write) => {
      // more than the limit, written without waiting for the socket to drain (the answer may come at any point)
      for (let sent = 0; sent <= MAX_BYTES * 4; sent += 8192) {
        write(Buffer.alloc(8192, 2))
        await new Promise((resolve) => setImmediate(resolve))
      }
    })
    t.equal(answer.status, 413)
    t.equal(answer.body.error.code, 'payload_too_large')
    t.equal(await app.versionCount(), 0, 'nothing stored')
    t.same(await spoolFiles(app), [], 'no spool file')
  })

  t.test('a body that stops arriving gets 408', async (t) => {
    const answer = await rawUpload(url, app.adminToken, (write) => { write(Buffer.alloc(1000, 3)) }, { 'content-length': '5000' })
    t.equal(answer.status, 408)
    t.equal(answer.body.error.code, 'body_timeout')
    t.equal(await app.versionCount(), 0, 'nothing stored')
    t.same(await spoolFiles(app), [], 'no spool file')
  })

  t.test('a body within the limit is stored', async (t) => {
    const answer = await app.upload('bounded', 'weights', Buffer.alloc(MAX_BYTES, 4))
    t.equal(answer.status, 201)
    t.equal(answer.body.size, MAX_BYTES)
    t.equal(await app.versionCount(), 1)
    t.same(await spoolFiles(app), [])
  })
})
