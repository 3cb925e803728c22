import type { Static } from 'typebox'
import type { AliasSchema, AliasViewSchema, PromoteBody } from '../api/routes/aliases/index.js'
import type { UploadedSchema } from '../api/routes/artifacts/index.js'
import type { CreateModelBody, ModelListSchema, UpdateModelBody } from '../api/routes/models/index.js'
import type { CreateReleaseBody } from '../api/routes/releases/index.js'
import type { ArtifactKind } from '../registry/model.js'
import type { ModelSchema, ReleaseSchema } from '../api/schemas/registry.js'
import { ApiError, ApiUnreachableError, InvalidRequestError, UnexpectedResponseError } from './errors.js'
import { openFileBody, type UploadListener } from './upload-body.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface AdminApiRequest {
  method: HttpMethod
  /** path segments below /v1, each encoded here: ['models', name, 'releases'] */
  path: readonly string[]
  query?: Record<string, string | number | undefined>
  json?: unknown
  /** `If-Match`: an alias revision or model version (sent quoted, as the ETag) or an ETag exactly as the API sent it */
  ifMatch?: number | string | undefined
  /** a streamed body of known length (uploads) */
  stream?: { body: ReadableStream<Uint8Array>, length: number, contentType: string }
}

export interface AdminApiResponse<Body = unknown> {
  status: number
  statusText: string
  headers: Headers
  /** the body exactly as received: the CLI's `--json` prints this */
  text: string
  /** the body parsed as JSON; undefined when it is empty or not JSON */
  body: Body
}

export interface AdminApiClientOptions {
  /** the API's root, without /v1 (it may sit under a path prefix: https://host/modelpin) */
  baseUrl: string
  token?: string | undefined
  /** named in the message when the API cannot be reached (`--api`, an environment variable, a file) */
  baseUrlSource?: string | undefined
}

export type Model = Static<typeof ModelSchema>
export type ModelList = Static<typeof ModelListSchema>
export type Release = Static<typeof ReleaseSchema>
export type Uploaded = Static<typeof UploadedSchema>
export type Alias = Static<typeof AliasSchema>
export type AliasView = Static<typeof AliasViewSchema>
export type { CreateModelBody, CreateReleaseBody, PromoteBody, UpdateModelBody }

/**
 * The client of the admin API that the CLI, the local stack and the tests share. `request` answers whatever status
 * comes back; `send` and the typed methods throw `ApiError` for an error status.
 */
export class AdminApiClient {
  readonly baseUrl: string
  constructor (private readonly options: AdminApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
  }

  url (request: Pick<AdminApiRequest, 'path' | 'query'>): string {
    const url = new URL(`${this.baseUrl}/v1/${request.path.map(encodeSegment).join('/')}`)
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    return url.href
  }

  /** Sends one request and answers its status, headers and body; throws only when no answer came. */
  async request (request: AdminApiRequest): Promise<AdminApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`
    if (request.ifMatch !== undefined) {
      headers['if-match'] = typeof request.ifMatch === 'number' ? `"${request.ifMatch}"` : request.ifMatch
    }
    let body: string | ReadableStream<Uint8Array> | undefined
    if (request.stream !== undefined) {
      body = request.stream.body
      headers['content-type'] = request.stream.contentType
      headers['content-length'] = String(request.stream.length)
    } else if (request.json !== undefined) {
      body = JSON.stringify(request.json)
      headers['content-type'] = 'application/json'
    }

    const url = this.url(request)
    let response: Response
    let text: string
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        body,
        // a stream body must say so; undici then reads the answer as soon as it comes, even mid-upload (401, 404)
        ...(request.stream !== undefined ? { duplex: 'half' as const } : {}),
      })
      text = await response.text()
    } catch (error) {
      throw new ApiUnreachableError(this.unreachableMessage(error), { cause: error })
    }
    return { status: response.status, statusText: response.statusText, headers: response.headers, text, body: parseJson(text) }
  }

  /** Sends one request; an error status throws `ApiError`, a 2xx body that is not JSON `UnexpectedResponseError`. */
  async send<Body = unknown> (request: AdminApiRequest): Promise<AdminApiResponse<Body>> {
    const response = await this.request(request)
    const { status, text, body } = response
    if (status >= 400) {
      const error = asRecord(asRecord(body)?.error)
      const code = typeof error?.code === 'string' ? error.code : `http_${status}`
      const message = typeof error?.message === 'string'
        ? error.message
        : (response.statusText !== '' ? response.statusText : 'no message') +
          (body === undefined && text.trim() !== '' ? ` (${text.trim().slice(0, 200)})` : '')
      throw new ApiError(status, code, message, body)
    }
    if (body === undefined && text !== '') {
      throw new UnexpectedResponseError(
        `${request.method} ${this.url(request)} answered ${status} with a body that is not JSON; ` +
        'is the URL that of a modelpin API?')
    }
    return response as AdminApiResponse<Body>
  }

  // Models

  async listModels (): Promise<AdminApiResponse<ModelList>> {
    return await this.send({ method: 'GET', path: ['models'] })
  }

  async getModel (name: string): Promise<AdminApiResponse<Model>> {
    return await this.send({ method: 'GET', path: ['models', name] })
  }

  /** Registers a model (admin). */
  async createModel (model: CreateModelBody): Promise<AdminApiResponse<Model>> {
    return await this.send({ method: 'POST', path: ['models'], json: model })
  }

  /**
   * Changes some fields of a model (admin); a `functionName` of null makes it registry-only. With `ifMatch` (the
   * model's version) a model changed since is refused with 412.
   */
  async updateModel (name: string, changes: UpdateModelBody, ifMatch?: number | string): Promise<AdminApiResponse<Model>> {
    return await this.send({ method: 'PATCH', path: ['models', name], json: changes, ifMatch })
  }

  // Artifacts, releases, aliases

  /** Uploads a file as a new S3 version of a model's weights or labels, streamed from disk. */
  async uploadFile (
    model: string, kind: ArtifactKind, file: string, listener?: UploadListener
  ): Promise<AdminApiResponse<Uploaded>> {
    const body = await openFileBody(file, listener)
    try {
      return await this.send({
        method: 'PUT',
        path: ['models', model, 'artifacts', kind],
        stream: { body: body.stream, length: body.length, contentType: 'application/octet-stream' },
      })
    } finally {
      await body.close()
    }
  }

  async createRelease (model: string, release: CreateReleaseBody): Promise<AdminApiResponse<Release>> {
    return await this.send({ method: 'POST', path: ['models', model, 'releases'], json: release })
  }

  async listReleases (model: string): Promise<AdminApiResponse<{ releases: Release[] }>> {
    return await this.send({ method: 'GET', path: ['models', model, 'releases'] })
  }

  async getAlias (model: string, alias: string): Promise<AdminApiResponse<AliasView>> {
    return await this.send({ method: 'GET', path: ['models', model, 'aliases', alias] })
  }

  async promote (
    model: string, alias: string, move: PromoteBody, ifMatch?: number | string
  ): Promise<AdminApiResponse<Alias>> {
    return await this.send({ method: 'POST', path: ['models', model, 'aliases', alias, 'promote'], json: move, ifMatch })
  }

  private unreachableMessage (error: unknown): string {
    const from = this.options.baseUrlSource === undefined ? '' : ` (from ${this.options.baseUrlSource})`
    return `cannot reach the modelpin API at ${this.baseUrl}${from}: ${describeNetworkError(error)}`
  }
}

// A URL resolves `.` and `..` segments before it is sent (encodeURIComponent leaves dots alone), so such a segment
// would address another resource; no model, alias or kind has such a name (src/contract/rules.ts).
function encodeSegment (segment: string): string {
  if (segment === '' || segment === '.' || segment === '..') {
    throw new InvalidRequestError(`${JSON.stringify(segment)} cannot be a name in a URL path`)
  }
  return encodeURIComponent(segment)
}

/** undici reports every network failure as `TypeError: fetch failed` with the system error as its cause. */
function describeNetworkError (error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    const code = (current as NodeJS.ErrnoException).code
    const part = code !== undefined && !current.message.includes(code) ? `${current.message} (${code})` : current.message
    if (current.message !== 'fetch failed') parts.push(part)
    current = current.cause
  }
  return parts.length > 0 ? parts.join(': ') : String(error)
}

function parseJson (text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

function asRecord (value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined
}
