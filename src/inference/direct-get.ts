import http from 'node:http'
import https from 'node:https'
import type { S3Client } from '@aws-sdk/client-s3'
import { presignGetObject } from '../aws/presign.js'
import { header, userMetadata, S3RefusalError } from './worker-read.js'

/**
 * One GET of a small object (an input image) over node:http(s), from a URL presign.ts signs with the client's own
 * credentials, endpoint, region and addressing style, instead of a GetObject through the client.
 *
 * On the warm path every request reads its image: through the SDK that took about 3.3 ms for the 56 KB benchmark
 * image here, of which radosgw's answer about 1.5 and the SDK's middleware (serialising, endpoint rules, signing,
 * parsing some 40 response headers) most of the rest. This GET takes about 2 ms. S3's refusals come back shaped as
 * the SDK's errors (name = S3's code, `$metadata.httpStatusCode`), so callers translate them with the same rules
 * (s3-errors.ts); a GET that got no answer, a 5xx or a 429 is sent again, three tries in all as the SDK's standard
 * retry mode. `undefined` from `directGetTarget` (a FIPS, dual-stack or accelerate endpoint, which presign.ts does
 * not cover) means: read through the SDK.
 */

/** Where presign.ts sends a client's GETs. */
export interface DirectGetTarget {
  endpoint: string | undefined
  region: string
  forcePathStyle: boolean
  client: S3Client
}

const targets = new WeakMap<S3Client, Promise<DirectGetTarget | undefined>>()

/** The client's settings as presign.ts takes them, once per client; undefined when it cannot sign for them. */
export async function directGetTarget (s3: S3Client): Promise<DirectGetTarget | undefined> {
  let target = targets.get(s3)
  if (target === undefined) {
    target = resolveTarget(s3)
    targets.set(s3, target)
  }
  return await target
}

async function resolveTarget (s3: S3Client): Promise<DirectGetTarget | undefined> {
  const config = s3.config
  if (await config.useFipsEndpoint() || await config.useDualstackEndpoint() || config.useAccelerateEndpoint === true) return undefined
  let endpoint: string | undefined
  if (config.endpoint !== undefined) {
    const { protocol, hostname, port, path } = await config.endpoint()
    endpoint = `${protocol}//${hostname}${port === undefined ? '' : `:${port}`}${path}`
  }
  return { endpoint, region: await config.region(), forcePathStyle: config.forcePathStyle === true, client: s3 }
}

/** A response whose status was 200, headers read, body not yet. */
export type DirectResponse = http.IncomingMessage

// Keep-alive connections shared by every direct GET of the process, as the SDK's client pools its own.
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) }
const TRIES = 3
const TIMEOUT_MS = 30_000

/**
 * Sends the GET of `ref` and resolves with the 200 response (the caller reads or destroys the body); S3's refusal
 * rejects with a S3RefusalError, as the SDK would have thrown it.
 */
export async function directGet (target: DirectGetTarget, ref: { bucket: string, key: string, versionId?: string | undefined }): Promise<DirectResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { accessKeyId, secretAccessKey, sessionToken } = await target.client.config.credentials()
      const url = new URL(presignGetObject({
        endpoint: target.endpoint,
        region: target.region,
        forcePathStyle: target.forcePathStyle,
        credentials: { accessKeyId, secretAccessKey, sessionToken },
        bucket: ref.bucket,
        key: ref.key,
        versionId: ref.versionId,
        expiresIn: 60,
      }))
      const response = await request(url)
      if (response.statusCode === 200) return response
      throw await refusal(response)
    } catch (error) {
      if (!(error as { retryable?: boolean }).retryable || attempt === TRIES) throw error
      await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt))
    }
  }
}

function request (url: URL): Promise<http.IncomingMessage> {
  const lib = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { agent: agents[url.protocol as 'http:' | 'https:'] }, resolve)
    req.setTimeout(TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no answer from S3 for ${TIMEOUT_MS / 1000} s`), { code: 'RequestTimeout' })))
    // No answer (a reset keep-alive connection, a timeout): sent again.
    req.once('error', (error) => reject(Object.assign(error, { retryable: true })))
  })
}

/** S3's error document as the SDK reports it; 5xx and 429 are worth another try. */
async function refusal (response: http.IncomingMessage): Promise<Error> {
  let text = ''
  for await (const chunk of response) if (text.length < 65_536) text += (chunk as Buffer).toString('utf8')
  const tag = (name: string): string | undefined => new RegExp(`<${name}>([^<]*)</${name}>`).exec(text)?.[1]
  const status = response.statusCode
  const error = new S3RefusalError(tag('Message') ?? `HTTP ${status}`, status, tag('Code'))
  return Object.assign(error, { retryable: status !== undefined && (status >= 500 || status === 429) })
}

/** The response's VersionId and user metadata, as the SDK's GetObject output has them. */
export function responseFields (response: DirectResponse): { versionId: string | undefined, metadata: Record<string, string>, contentLength: number | undefined } {
  const length = header(response.headers['content-length'])
  return {
    versionId: header(response.headers['x-amz-version-id']),
    metadata: userMetadata(response.headers),
    contentLength: length === undefined ? undefined : Number(length),
  }
}
