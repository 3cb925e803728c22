import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { S3_ENV } from './s3.js'

/**
 * The admin API as a separate OS process (`src/api/main.ts` through tsx), for the tests that kill it, stop it with a
 * signal, run two of them on one database, or skew its clock. Configured only through its environment, as in
 * production.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MAIN = fileURLToPath(new URL('../../src/api/main.ts', import.meta.url))
const LISTENING = 'modelpin admin API listening'
/** Starting a process through tsx takes a few seconds on a busy machine; this only turns a hang into a failure. */
const READY_LIMIT_MS = 60_000

export interface ApiProcessOptions {
  /** `sqlite:<path>` or `postgres://...`; default: SQLite in the data dir */
  databaseUrl?: string | undefined
  /** MODELPIN_DATA_DIR; default: a new temporary folder, removed after the test (pass one to restart on the same data) */
  dataDir?: string | undefined
  /** the admin token; default: a random one (pass it again to restart with the same token) */
  adminToken?: string | undefined
  /** AWS_ENDPOINT_URL_LAMBDA, e.g. the local runtime's URL or a fault proxy in front of it; default: none */
  lambdaEndpoint?: string | undefined
  /** MODELPIN_API_PORT; default 0 (a free port) */
  port?: number | undefined
  /** LOG_LEVEL of the process; default info (the start is detected from its log) */
  logLevel?: string | undefined
  /** more variables, e.g. LD_PRELOAD and FAKETIME for libfaketime, or MODELPIN_LOCK_TTL_SECONDS; they win over the rest */
  env?: Record<string, string> | undefined
}

export interface ApiProcessExit { code: number | null, signal: NodeJS.Signals | null }

/** One JSON line of the process's pino log. */
export type LogEntry = Record<string, unknown> & { msg?: string, level?: number }

export interface ApiProcess {
  /** where it listens, e.g. http://127.0.0.1:41234 */
  url: string
  pid: number
  token: string
  dataDir: string
  /** the options it was started with, filled in: start another one with the same data through `startApiProcess(t, p.options)` */
  options: ApiProcessOptions & { dataDir: string, adminToken: string }
  /** its log so far, one parsed entry per line */
  readonly log: readonly LogEntry[]
  /** its stderr so far (start-up errors land there) */
  readonly stderr: string
  /** resolves with the first log entry (past or future) that `matches`; rejects if the process exits first */
  waitForLog: (matches: (entry: LogEntry) => boolean, limitMs?: number) => Promise<LogEntry>
  /** sends a signal (SIGKILL, SIGTERM, ...); no-op once it has exited */
  kill: (signal: NodeJS.Signals) => void
  /** resolves when it has exited, with its code or signal */
  exited: Promise<ApiProcessExit>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/** Starts the admin API process and waits until it listens and /readyz answers 200; killed (SIGKILL) after the test. */
export async function startApiProcess (t: Teardown, options: ApiProcessOptions = {}): Promise<ApiProcess> {
  let dataDir = options.dataDir
  if (dataDir === undefined) {
    const created = await mkdtemp(join(tmpdir(), 'modelpin-api-process-'))
    t.teardown(() => rm(created, { recursive: true, force: true }))
    dataDir = created
  }
  const adminToken = options.adminToken ?? `test-${randomBytes(16).toString('hex')}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...S3_ENV,
    MODELPIN_API_HOST: '127.0.0.1',
    MODELPIN_API_PORT: String(options.port ?? 0),
    MODELPIN_DATA_DIR: dataDir,
    MODELPIN_ADMIN_TOKEN: adminToken,
    LOG_LEVEL: options.logLevel ?? 'info',
    LOG_FORMAT: 'json',
    ...options.env,
  }
  // the test's own environment must not choose the database or Lambda behind the test's back
  delete env.DATABASE_URL
  delete env.AWS_ENDPOINT_URL_LAMBDA
  if (options.databaseUrl !== undefined) env.DATABASE_URL = options.databaseUrl
  if (options.lambdaEndpoint !== undefined) env.AWS_ENDPOINT_URL_LAMBDA = options.lambdaEndpoint

  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<ApiProcessExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
  })

  const log: LogEntry[] = []
  const watchers = new Set<(entry: LogEntry) => void>()
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => { stderr += chunk })
  // every line is read as it comes, so a full pipe never blocks the process's next write
  createInterface({ input: child.stdout }).on('line', (line) => {
    let entry: LogEntry
    try {
      entry = JSON.parse(line) as LogEntry
    } catch {
      entry = { msg: line }
    }
    log.push(entry)
    for (const watcher of watchers) watcher(entry)
  })

  const waitForLog = (matches: (entry: LogEntry) => boolean, limitMs = READY_LIMIT_MS): Promise<LogEntry> => {
    const seen = log.find(matches)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        watchers.delete(watcher)
      }
      const watcher = (entry: LogEntry): void => {
        if (!matches(entry)) return
        done()
        resolve(entry)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no matching log entry of the API process within ${limitMs} ms; stderr: ${stderr}`))
      }, limitMs)
      watchers.add(watcher)
      exited.then(({ code, signal }) => {
        if (!watchers.has(watcher)) return
        done()
        reject(new Error(`the API process exited (code ${String(code)}, signal ${String(signal)}) before the log entry; stderr: ${stderr}`))
      }, () => {})
    })
  }

  const listening = await waitForLog((entry) => entry.msg === LISTENING)
  const url = String(listening.url)
  await waitUntilReady(url, exited)
  return {
    url,
    pid: child.pid!,
    token: adminToken,
    dataDir,
    options: { ...options, dataDir, adminToken },
    log,
    get stderr () { return stderr },
    waitForLog,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    exited,
  }
}

/** Polls /readyz until it answers 200 (it does at once unless the database or S3 is slow to answer). */
async function waitUntilReady (url: string, exited: Promise<ApiProcessExit>): Promise<void> {
  const state = { gone: false }
  exited.then(() => { state.gone = true }, () => {})
  const deadline = Date.now() + READY_LIMIT_MS
  let last = 'no answer'
  while (Date.now() < deadline && !state.gone) {
    try {
      const answer = await fetch(`${url}/readyz`)
      if (answer.status === 200) return
      last = `${answer.status} ${await answer.text()}`
    } catch (error) {
      last = (error as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the API process at ${url} did not become ready: ${last}`)
}

/** One request to an API process with its admin token; the status, ETag and parsed body, whatever the status. */
export async function callApi (
  api: Pick<ApiProcess, 'url' | 'token'>, method: string, path: string, body?: unknown, headers: Record<string, string> = {}
): Promise<{ status: number, etag: string | null, body: any }> {
  const isBytes = Buffer.isBuffer(body)
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${api.token}`,
      ...(body === undefined ? {} : { 'content-type': isBytes ? 'application/octet-stream' : 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: isBytes ? new Uint8Array(body) : JSON.stringify(body) }),
  })
  const text = await response.text()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = text
  }
  return { status: response.status, etag: response.headers.get('etag'), body: parsed }
}

/**
 * Registers model `name` on `bucket` through an API process (fields such as `functionName` as given) with `count`
 * releases: release n pairs the n-th weights upload with one labels upload. Throws on any refusal.
 */
export async function seedModel (
  api: Pick<ApiProcess, 'url' | 'token'>, name: string, bucket: string, count: number, fields: Record<string, unknown> = {}
): Promise<void> {
  const must = async (what: string, answer: Promise<{ status: number, body: any }>): Promise<any> => {
    const { status, body } = await answer
    if (status < 200 || status > 299) throw new Error(`${what} answered ${status}: ${JSON.stringify(body)}`)
    return body
  }
  await must('creating the model', callApi(api, 'POST', '/v1/models', {
    name, bucket, weightsKey: `${name}/model.onnx`, labelsKey: `${name}/labels.txt`, ...fields,
  }))
  const labels = await must('uploading labels', callApi(api, 'PUT', `/v1/models/${name}/artifacts/labels`, Buffer.from('cat\ndog\n')))
  for (let n = 1; n <= count; n++) {
    const weights = await must('uploading weights', callApi(api, 'PUT', `/v1/models/${name}/artifacts/weights`, Buffer.from(`weights of release ${n}`)))
    await must(`registering release ${n}`, callApi(api, 'POST', `/v1/models/${name}/releases`, {
      weightsVersionId: weights.versionId, labelsVersionId: labels.versionId, notes: `release ${n}`,
    }))
  }
}
