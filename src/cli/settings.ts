import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { UsageError } from './errors.js'
import { asRecord } from './json-shape.js'

export const DEFAULT_API_URL = 'http://127.0.0.1:3000'
export const STATE_DIRECTORY = '.modelpin'

export interface GlobalFlags {
  api?: string
  token?: string
}

export interface Settings {
  apiUrl: string
  /** where apiUrl came from, so an unreachable API can be explained (`--api`, `MODELPIN_API_URL`, a file, default) */
  apiUrlSource: string
  token: string | undefined
  tokenSource: string | undefined
}

// Not env-schema: each setting comes from a flag, then the environment, then a file under .modelpin/, an order that a
// schema over the environment alone cannot express.
/**
 * Where the CLI finds the API and its token, first match wins:
 * URL: `--api`, `MODELPIN_API_URL`, the api endpoint in `.modelpin/stack.json`, http://127.0.0.1:3000;
 * token: `--token`, `MODELPIN_TOKEN`, `.modelpin/admin-token`.
 * `.modelpin` is `MODELPIN_DATA_DIR` when set (as for the stack and the API), else looked up from `cwd` towards the
 * root, as git finds `.git`, so commands work from any folder of the checkout that runs the local stack.
 */
export async function resolveSettings (
  flags: GlobalFlags, env: Record<string, string | undefined>, cwd: string
): Promise<Settings> {
  // The stack and the API keep their files in MODELPIN_DATA_DIR when it is set, so the CLI looks there too.
  const stateDirectory = nonEmpty(env.MODELPIN_DATA_DIR)
    ? path.resolve(cwd, env.MODELPIN_DATA_DIR)
    : await findStateDirectory(cwd)
  let apiUrl: string
  let apiUrlSource: string
  if (flags.api !== undefined) {
    apiUrl = checkUrl(flags.api, '--api')
    apiUrlSource = '--api'
  } else if (nonEmpty(env.MODELPIN_API_URL)) {
    apiUrl = checkUrl(env.MODELPIN_API_URL, 'MODELPIN_API_URL')
    apiUrlSource = 'MODELPIN_API_URL'
  } else {
    const stackFile = stateDirectory === undefined ? undefined : path.join(stateDirectory, 'stack.json')
    const fromStack = stackFile === undefined ? undefined : await apiUrlFromStackFile(stackFile)
    if (stackFile !== undefined && fromStack !== undefined) {
      apiUrl = checkUrl(fromStack, stackFile)
      apiUrlSource = stackFile
    } else {
      apiUrl = DEFAULT_API_URL
      apiUrlSource = 'the default'
    }
  }

  let token: string | undefined
  let tokenSource: string | undefined
  if (flags.token !== undefined) {
    token = flags.token.trim()
    tokenSource = '--token'
    if (token === '') throw new UsageError('--token is empty')
  } else if (nonEmpty(env.MODELPIN_TOKEN)) {
    token = env.MODELPIN_TOKEN.trim()
    tokenSource = 'MODELPIN_TOKEN'
  } else if (stateDirectory !== undefined) {
    const tokenFile = path.join(stateDirectory, 'admin-token')
    token = await readOptional(tokenFile).then((text) => nonEmpty(text?.trim()) ? text.trim() : undefined)
    tokenSource = token === undefined ? undefined : tokenFile
  }
  return { apiUrl, apiUrlSource, token, tokenSource }
}

function nonEmpty (value: string | undefined): value is string {
  return value !== undefined && value.trim() !== ''
}

function checkUrl (value: string, source: string): string {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    throw new UsageError(`${source} is not a URL: ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} must be an http:// or https:// URL, not ${JSON.stringify(value)}`)
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`${source} must not carry a query or fragment: ${JSON.stringify(value)}`)
  }
  // A deployment may sit under a path prefix (https://host/modelpin); requests append /v1/... to it.
  return url.href.replace(/\/+$/, '')
}

async function findStateDirectory (cwd: string): Promise<string | undefined> {
  let directory = path.resolve(cwd)
  for (;;) {
    const candidate = path.join(directory, STATE_DIRECTORY)
    if (await stat(candidate).then((s) => s.isDirectory(), () => false)) return candidate
    const parent = path.dirname(directory)
    if (parent === directory) return undefined
    directory = parent
  }
}

async function readOptional (file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * The local stack writes stack.json; its exact shape belongs to the stack, so read the API endpoint defensively:
 * `endpoints.api` or `api`, each either a URL string or an object with a `url`. Anything else means "not there".
 */
async function apiUrlFromStackFile (file: string): Promise<string | undefined> {
  const text = await readOptional(file)
  if (text === undefined) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return undefined
  }
  const record = asRecord(parsed)
  const candidates = [asRecord(record?.endpoints)?.api, record?.api]
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && candidate !== '') return candidate
    const url = asRecord(candidate)?.url
    if (typeof url === 'string' && url !== '') return url
  }
  return undefined
}
