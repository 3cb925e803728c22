import { ApiError, ApiUnreachableError, UnexpectedResponseError } from './errors.js'
import { asRecord } from './json-shape.js'

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface ApiRequest {
  method: HttpMethod
  /** path segments below /v1, each encoded here: ['models', name, 'releases'] */
  path: readonly string[]
  query?: Record<string, string | number | undefined>
  json?: unknown
  /** an alias revision for `If-Match` (sent quoted, as the alias's ETag) */
  ifMatch?: number
  /** a streamed body of known length (uploads) */
  stream?: { body: ReadableStream<Uint8Array>, length: number, contentType: string }
}

export interface ApiResponse {
  status: number
  headers: Headers
  /** the body exactly as received: `--json` prints this */
  text: string
  body: unknown
}

export interface ApiClientOptions {
  baseUrl: string
  token?: string
  /** named in the message when the API cannot be reached */
  baseUrlSource?: string
}

/** A thin HTTP client of the admin API (DESIGN.md). Every error status becomes an `ApiError`. */
export class ApiClient {
  readonly baseUrl: string
  constructor (private readonly options: ApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
  }

  url (request: Pick<ApiRequest, 'path' | 'query'>): string {
    const url = new URL(`${this.baseUrl}/v1/${request.path.map(encodeURIComponent).join('/')}`)
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value))
    }
    return url.href
  }

  async send (request: ApiRequest): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`
    if (request.ifMatch !== undefined) headers['if-match'] = `"${request.ifMatch}"`
    let body: string | ReadableStream<Uint8Array> | undefined
    if (request.stream !== undefined) {
      body = request.stream.body
      headers['content-type'] = request.stream.contentType
      headers['content-length'] = String(request.stream.length)
    } else if (request.json !== undefined) {
      body = JSON.stringify(request.json)
      headers['content-type'] = 'application/json'
    }

    let response: Response
    let text: string
    try {
      response = await fetch(this.url(request), {
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

    const parsed = parseJson(text)
    if (response.status >= 400) {
      const error = asRecord(asRecord(parsed)?.error)
      const code = typeof error?.code === 'string' ? error.code : `http_${response.status}`
      const message = typeof error?.message === 'string'
        ? error.message
        : (response.statusText !== '' ? response.statusText : 'no message') +
          (parsed === undefined && text.trim() !== '' ? ` (${text.trim().slice(0, 200)})` : '')
      throw new ApiError(response.status, code, message, parsed)
    }
    if (parsed === undefined && text !== '') {
      throw new UnexpectedResponseError(
        `${request.method} ${this.url(request)} answered ${response.status} with a body that is not JSON; ` +
        'is the URL that of a modelpin API?')
    }
    return { status: response.status, headers: response.headers, text, body: parsed }
  }

  private unreachableMessage (error: unknown): string {
    const from = this.options.baseUrlSource === undefined ? '' : ` (from ${this.options.baseUrlSource})`
    return `cannot reach the modelpin API at ${this.baseUrl}${from}: ${describeNetworkError(error)}`
  }
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
