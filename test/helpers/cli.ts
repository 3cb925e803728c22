import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { CliIo } from '../../src/cli/main.js'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface CapturedIo {
  io: CliIo
  stdout: () => string
  stderr: () => string
}

/**
 * An `io` for `main` that keeps what the command prints. The working directory is a fresh folder outside the
 * checkout, so the repository's own `.modelpin/` (written by a running local stack) never leaks into a test.
 */
export async function captureIo (
  t: Teardown, options: { env?: Record<string, string>, cwd?: string, stderrIsTTY?: boolean } = {}
): Promise<CapturedIo> {
  let stdout = ''
  let stderr = ''
  return {
    io: {
      stdout: { write: (text: string) => { stdout += text; return true } },
      stderr: { write: (text: string) => { stderr += text; return true }, isTTY: options.stderrIsTTY ?? false },
      env: options.env ?? {},
      cwd: options.cwd ?? await emptyDirectory(t),
    },
    stdout: () => stdout,
    stderr: () => stderr,
  }
}

/** A new empty folder under the system's temporary directory, removed after the test. */
export async function emptyDirectory (t: Teardown): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'modelpin-cli-'))
  t.teardown(() => rm(directory, { recursive: true, force: true }))
  return directory
}

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Buffer
}

export interface Answer { status: number, body?: unknown, text?: string }

/**
 * A tiny HTTP server that records every request the CLI sends and answers with `answer`. It tests the CLI's own
 * HTTP (paths, headers, bodies, how it reads answers); the product's behaviour is tested against the real API.
 */
export async function startRecordingServer (
  t: Teardown, answer: (request: RecordedRequest) => Answer = () => ({ status: 200, body: {} })
): Promise<{ url: string, requests: RecordedRequest[] }> {
  const requests: RecordedRequest[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      requests.push(request)
      const { status, body, text } = answer(request)
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(text ?? (body === undefined ? '' : JSON.stringify(body)))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, requests }
}
