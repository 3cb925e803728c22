import { randomUUID } from 'node:crypto'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import {
  invalidParameter, invalidRequestContent, LambdaApiError, requestTooLarge, unknownOperation, unsupportedOperation,
} from './errors.js'
import type { ApiBackend } from './api-backend.js'
import { qualifierOf } from './function-model.js'
import { InvalidNotificationError, rewriteRadosgwNotification } from './s3-events.js'

/**
 * The HTTP face of the local runtime: the subset of Lambda's REST API (version 2015-03-31) that
 * @aws-sdk/client-lambda and the AWS CLI call, plus the S3 notification intake under `/_local/`, outside Lambda's
 * namespace. Any SigV4 signature is accepted. A plain node:http listener rather than Fastify: every answer,
 * malformed requests and unknown paths included, must be in Lambda's error shape, which is simpler to guarantee
 * with one small router than by overriding a framework's defaults.
 */

const API_VERSION = '2015-03-31'
const S3_EVENTS = '/_local/s3-events'
// Lambda's limit for an asynchronous invocation's payload (1 MB since 2025; 256 KB before).
const EVENT_PAYLOAD_LIMIT = 1024 * 1024
const SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
const CONTROL_BODY_LIMIT = 1024 * 1024

/** The path of the S3 notification intake that invokes `functionName` at `qualifier`. */
export function s3EventsPath (functionName: string, qualifier: string): string {
  return `${S3_EVENTS}/${encodeURIComponent(functionName)}/${encodeURIComponent(qualifier)}`
}

interface Reply { status: number, body?: unknown, raw?: string, headers?: Record<string, string> }

export function createRequestListener (backend: ApiBackend): RequestListener {
  return (request, response) => {
    const requestId = randomUUID()
    handle(backend, request)
      .catch((error: unknown) => errorReply(backend.logger, error, request))
      .then((reply) => send(response, requestId, reply))
      .catch((error: unknown) => backend.logger.error({ err: error }, 'failed to answer a Lambda API request'))
  }
}

async function handle (backend: ApiBackend, request: IncomingMessage): Promise<Reply> {
  const url = new URL(request.url ?? '/', 'http://localhost')
  const method = request.method ?? 'GET'
  const segments = pathSegments(url.pathname)
  const query = (name: string): string | undefined => url.searchParams.get(name) ?? undefined
  const { catalog } = backend

  if (url.pathname.startsWith(`${S3_EVENTS}/`) && segments.length === 4 && method === 'POST') {
    return s3Intake(backend, segments[2] ?? '', segments[3] ?? '', await readBody(request, CONTROL_BODY_LIMIT))
  }
  if (url.pathname === '/_local/health' && method === 'GET') return { status: 200, body: { status: 'ok' } }

  if (segments[0] !== API_VERSION || segments[1] !== 'functions') {
    // another Lambda API version (layers, event source mappings, URLs, ...) or no Lambda path at all
    if (/^\/20\d\d-\d\d-\d\d\//.test(url.pathname)) throw unsupportedOperation(`${method} ${url.pathname}`)
    throw unknownOperation(method, url.pathname)
  }
  const [, , functionName, resource, aliasName, ...rest] = segments
  if (rest.length > 0) throw unknownOperation(method, url.pathname)
  const route = `${method} ${functionName === undefined ? '' : 'F'}${resource === undefined ? '' : `/${resource}`}${aliasName === undefined ? '' : '/A'}`

  switch (route) {
    case 'GET ':
      return { status: 200, body: catalog.listFunctions() }
    case 'GET F':
      return { status: 200, body: catalog.getFunction(functionName!, query('Qualifier')) }
    case 'GET F/configuration':
      return { status: 200, body: catalog.getConfiguration(functionName!, query('Qualifier')) }
    case 'PUT F/configuration':
      return { status: 200, body: catalog.updateConfiguration(functionName!, await readJson(request)) }
    case 'POST F/invocations':
      return invoke(backend, request, functionName!, query('Qualifier'))
    case 'GET F/versions':
      return { status: 200, body: catalog.listVersions(functionName!, query('Marker'), query('MaxItems')) }
    case 'POST F/versions':
      return { status: 201, body: catalog.publishVersion(functionName!, await readJson(request)) }
    case 'GET F/aliases':
      return { status: 200, body: catalog.listAliases(functionName!, query('FunctionVersion'), query('Marker'), query('MaxItems')) }
    case 'POST F/aliases':
      return { status: 201, body: catalog.createAlias(functionName!, await readJson(request)) }
    case 'GET F/aliases/A':
      return { status: 200, body: catalog.getAlias(functionName!, aliasName!) }
    case 'PUT F/aliases/A':
      return { status: 200, body: catalog.updateAlias(functionName!, aliasName!, await readJson(request)) }
    case 'DELETE F/aliases/A':
      catalog.deleteAlias(functionName!, aliasName!)
      return { status: 204 }
  }
  if (['POST ', 'DELETE F', 'PUT F/code', 'POST F/policy', 'GET F/policy', 'PUT F/concurrency'].includes(route)) {
    throw unsupportedOperation(`${method} ${url.pathname}`)
  }
  throw unknownOperation(method, url.pathname)
}

async function invoke (backend: ApiBackend, request: IncomingMessage, functionName: string, qualifierParam: string | undefined): Promise<Reply> {
  const invocationType = header(request, 'x-amz-invocation-type') ?? 'RequestResponse'
  if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
    throw invalidParameter(`Unsupported invocation type ${invocationType}`)
  }
  const qualifier = qualifierOf(functionName, qualifierParam)
  const limit = invocationType === 'Event' ? EVENT_PAYLOAD_LIMIT : SYNC_PAYLOAD_LIMIT
  const raw = await readBody(request, limit)
  // an invocation without a payload receives an empty object, as with Lambda
  const payload = raw.trim() === '' ? '{}' : raw
  try {
    JSON.parse(payload)
  } catch (error) {
    throw invalidRequestContent(`Could not parse request body into json: Could not parse payload into json: ${(error as Error).message}`)
  }
  const target = backend.catalog.route(functionName, qualifier)
  if (invocationType === 'DryRun') return { status: 204 }
  if (invocationType === 'Event') {
    const requestId = backend.enqueue(functionName, qualifier, payload)
    return { status: 202, headers: { 'x-amzn-RequestId': requestId } }
  }
  const clientContext = header(request, 'x-amz-client-context')
  const result = await backend.invoke(target, payload, {
    logTail: header(request, 'x-amz-log-type') === 'Tail',
    clientContext: clientContext === undefined ? undefined : decodeClientContext(clientContext),
  })
  return {
    status: 200,
    raw: result.payload,
    headers: {
      'x-amzn-RequestId': result.requestId,
      'X-Amz-Executed-Version': result.executedVersion,
      ...(result.functionError === undefined ? {} : { 'X-Amz-Function-Error': result.functionError }),
      ...(result.logResult === undefined ? {} : { 'X-Amz-Log-Result': result.logResult }),
    },
  }
}

/**
 * radosgw's notification POST: answered at once (radosgw delivers non-persistent notifications inside the
 * PutObject request), each record rewritten into AWS's shape and invoked asynchronously, one record per event as S3
 * does.
 */
function s3Intake (backend: ApiBackend, functionName: string, qualifier: string, raw: string): Reply {
  let records
  try {
    records = rewriteRadosgwNotification(JSON.parse(raw), { region: backend.region })
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof InvalidNotificationError) {
      throw invalidRequestContent(`Not a bucket notification: ${error.message}`)
    }
    throw error
  }
  backend.catalog.resolve(functionName, qualifier)
  const requestIds = records.map((record) => backend.enqueue(functionName, qualifier, JSON.stringify({ Records: [record] })))
  backend.logger.info({
    function: functionName,
    qualifier,
    requestIds,
    objects: records.map((r) => `${r.s3.bucket.name}/${r.s3.object.key}${r.s3.object.versionId === undefined ? '' : `@${r.s3.object.versionId}`}`),
  }, 'S3 notification received')
  return { status: 200, body: { requestIds } }
}

function errorReply (logger: Logger, error: unknown, request: IncomingMessage): Reply {
  if (error instanceof LambdaApiError) {
    logger.debug({ method: request.method, url: request.url, errorType: error.errorType, message: error.message }, 'Lambda API error')
    return { status: error.status, body: error.body(), headers: { 'x-amzn-ErrorType': error.errorType, ...error.details.headers } }
  }
  logger.error({ err: error, method: request.method, url: request.url }, 'Lambda API request failed')
  const failure = new LambdaApiError('ServiceException', 500, 'The local Lambda runtime failed to handle the request; see its log')
  return { status: 500, body: failure.body(), headers: { 'x-amzn-ErrorType': failure.errorType } }
}

function send (response: ServerResponse, requestId: string, reply: Reply): void {
  const text = reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body))
  response.writeHead(reply.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
    ...reply.headers,
  })
  response.end(text)
}

async function readBody (request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request) {
    size += (chunk as Buffer).length
    if (size <= limit) chunks.push(chunk as Buffer)
  }
  if (size > limit) throw requestTooLarge(limit)
  return Buffer.concat(chunks).toString('utf8')
}

async function readJson (request: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(request, CONTROL_BODY_LIMIT)
  if (raw.trim() === '') return {}
  let body: unknown
  try {
    body = JSON.parse(raw)
  } catch (error) {
    throw invalidRequestContent(`Could not parse request body into json: ${(error as Error).message}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequestContent('The request body must be a JSON object')
  return body as Record<string, unknown>
}

function pathSegments (pathname: string): string[] {
  try {
    return pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s))
  } catch {
    throw invalidRequestContent(`Malformed percent-encoding in ${pathname}`)
  }
}

function header (request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function decodeClientContext (base64: string): unknown {
  try {
    return JSON.parse(Buffer.from(base64, 'base64').toString('utf8'))
  } catch {
    throw invalidRequestContent('X-Amz-Client-Context must be base64-encoded JSON')
  }
}
