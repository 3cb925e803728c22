import { once } from 'node:events'
import {
  createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/**
 * A fault-injecting HTTP proxy for the tests: it sits between a client (the admin API's Lambda client) and an
 * upstream (the local Lambda runtime) and, for the requests a rule matches, forwards and then drops the reply, resets
 * the connection before forwarding, answers by itself, or holds the request for a while. Unmatched requests pass
 * through untouched. Real sockets on both sides: what the client sees is what a flaky network would give it.
 */

/** What the proxy does with a matched request. */
export type FaultAction =
  /** forwards it unchanged (counts it; with `delayMs` or `until`, a slow network) */
  | { kind: 'forward' }
  /** forwards it, waits for the upstream's full reply (so the upstream applied it), then destroys the client's socket */
  | { kind: 'drop-reply' }
  /** resets the client's connection (TCP RST) without forwarding anything */
  | { kind: 'reset' }
  /** answers by itself, without forwarding (e.g. a 500 for PublishVersion) */
  | { kind: 'answer', status: number, body?: unknown, headers?: Record<string, string> }

export interface FaultRule {
  /** HTTP method, e.g. 'PUT'; undefined matches any */
  method?: string | undefined
  /** matched against the request's path with its query string, e.g. /\/aliases\/live$/ */
  path: RegExp
  action: FaultAction
  /** how many requests the rule applies to before it retires; undefined: until removed */
  times?: number | undefined
  /** waits this long before the action (a slow network) */
  delayMs?: number | undefined
  /** waits for this promise (e.g. a test's gate) before the action */
  until?: Promise<unknown> | undefined
}

/** A rule added to a running proxy. */
export interface ActiveRule {
  readonly rule: FaultRule
  /** how many requests it matched so far */
  readonly hits: number
  /** whether it still applies (false once removed or its `times` are used up) */
  readonly active: boolean
  /** resolves once the rule has matched `n` requests (1 by default) */
  matched: (n?: number) => Promise<void>
  /** stops applying it */
  remove: () => void
}

export interface ProxiedRequest {
  method: string
  path: string
  /** the action applied, 'pass' when no rule matched */
  action: FaultAction['kind'] | 'pass'
}

export interface FaultProxy {
  /** where clients connect, e.g. http://127.0.0.1:41234 */
  url: string
  /** every request it received, in arrival order */
  readonly requests: readonly ProxiedRequest[]
  /** adds a rule; rules are tried in the order added, the first active match applies */
  add: (rule: FaultRule) => ActiveRule
  /** removes every rule: from now on everything passes through */
  clear: () => void
  /** how many requests matched `method` and `path` so far (whatever was done with them) */
  count: (method: string | undefined, path: RegExp) => number
  close: () => Promise<void>
}

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * Starts a proxy on 127.0.0.1 (a free port) in front of `upstream`; closed after the test. With `keepHost`, requests
 * go upstream with the Host they came with (the proxy's): S3 checks a signature over the Host the client signed.
 */
export async function startFaultProxy (t: Teardown, upstream: string, options: { keepHost?: boolean } = {}): Promise<FaultProxy> {
  const target = new URL(upstream)
  const keepHost = options.keepHost === true
  const rules: RuleState[] = []
  const requests: ProxiedRequest[] = []
  const sockets = new Set<Socket>()

  const server = createServer((request, response) => {
    const method = request.method ?? 'GET'
    const path = request.url ?? '/'
    const state = rules.find((r) => r.applies(method, path))
    requests.push({ method, path, action: state?.rule.action.kind ?? 'pass' })
    if (state === undefined) {
      forward(target, request, response, false, keepHost)
      return
    }
    state.hit()
    apply(state.rule, target, request, response, keepHost).catch(() => request.socket.destroy())
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => (closed ??= new Promise<void>((resolve) => {
    for (const state of rules) state.remove()
    server.close(() => resolve())
    for (const socket of sockets) socket.destroy()
  }))
  t.teardown(close)

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    add: (rule) => {
      const state = new RuleState(rule)
      rules.push(state)
      return state
    },
    clear: () => {
      for (const state of rules.splice(0)) state.remove()
    },
    count: (method, path) => requests.filter((r) => (method === undefined || r.method === method) && path.test(r.path)).length,
    close,
  }
}

class RuleState implements ActiveRule {
  hits = 0
  private removed = false
  private readonly waiters: Array<{ n: number, resolve: () => void }> = []

  constructor (readonly rule: FaultRule) {}

  get active (): boolean {
    return !this.removed && (this.rule.times === undefined || this.hits < this.rule.times)
  }

  applies (method: string, path: string): boolean {
    return this.active && (this.rule.method === undefined || this.rule.method === method) && this.rule.path.test(path)
  }

  hit (): void {
    this.hits++
    for (const waiter of this.waiters.filter((w) => w.n <= this.hits)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }

  matched (n = 1): Promise<void> {
    if (this.hits >= n) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push({ n, resolve }))
  }

  remove (): void {
    this.removed = true
  }
}

async function apply (rule: FaultRule, target: URL, request: IncomingMessage, response: ServerResponse, keepHost: boolean): Promise<void> {
  if (rule.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, rule.delayMs))
  if (rule.until !== undefined) await rule.until.catch(() => {})
  const { action } = rule
  switch (action.kind) {
    case 'forward':
      forward(target, request, response, false, keepHost)
      return
    case 'drop-reply':
      forward(target, request, response, true, keepHost)
      return
    case 'reset':
      request.socket.resetAndDestroy()
      return
    case 'answer': {
      request.resume()
      const body = action.body === undefined ? '' : typeof action.body === 'string' ? action.body : JSON.stringify(action.body)
      response.writeHead(action.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        ...action.headers,
      })
      response.end(body)
    }
  }
}

/** Sends the request upstream; relays the reply, or (with `dropReply`) reads all of it and then cuts the client off. */
function forward (target: URL, request: IncomingMessage, response: ServerResponse, dropReply: boolean, keepHost = false): void {
  const headers: OutgoingHttpHeaders = { ...request.headers, host: keepHost ? request.headers.host : target.host }
  const upstream = httpRequest({
    host: target.hostname,
    port: target.port,
    method: request.method,
    path: request.url,
    headers,
  }, (reply) => {
    if (dropReply) {
      reply.resume()
      reply.once('end', () => request.socket.destroy())
      return
    }
    response.writeHead(reply.statusCode ?? 502, reply.headers)
    reply.pipe(response)
  })
  upstream.on('error', () => request.socket.destroy())
  request.pipe(upstream)
}
