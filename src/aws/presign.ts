import { createHash, createHmac } from 'node:crypto'

/**
 * A presigned S3 GetObject URL (Signature Version 4, query parameters, `UNSIGNED-PAYLOAD`), made with node:crypto
 * alone. The function's early read (src/inference/early-read.ts) starts its download before the AWS SDK is loaded,
 * which takes about 200 ms of a cold start here; everything else presigns with the SDK's own presigner.
 *
 * It covers what the function's configuration can name: AWS S3 in a region of the `aws` partition (virtual-hosted
 * style, or path style when asked or when the bucket name has a dot), or a gateway at AWS_ENDPOINT_URL_S3 (path style
 * unless S3_FORCE_PATH_STYLE=false), with the Lambda role's session token. The rules are AWS's "Authenticating
 * Requests: Using Query Parameters (AWS Signature Version 4)"; radosgw checks the signatures in the tests.
 */
export interface PresignInput {
  /** A gateway's endpoint (http://127.0.0.1:7480); undefined means AWS S3 in `region`. */
  endpoint?: string | undefined
  region: string
  forcePathStyle: boolean
  credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string | undefined }
  bucket: string
  key: string
  versionId?: string | undefined
  /** Seconds the URL is valid (at most 7 days) */
  expiresIn: number
  /** When the URL is signed; now by default */
  now?: Date | undefined
}

/** RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ */
function encode (text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex')
const hmac = (key: string | Buffer, text: string): Buffer => createHmac('sha256', key).update(text, 'utf8').digest()

export function presignGetObject (input: PresignInput): string {
  const { region, bucket, credentials } = input
  if (!Number.isInteger(input.expiresIn) || input.expiresIn < 1 || input.expiresIn > 604_800) {
    throw new Error(`expiresIn must be 1 to 604800 seconds, got ${input.expiresIn}`)
  }
  const stamp = (input.now ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, '')
  const day = stamp.slice(0, 8)
  const key = input.key.split('/').map(encode).join('/')

  let origin: URL
  let path: string
  if (input.endpoint !== undefined) {
    const endpoint = new URL(input.endpoint)
    const base = endpoint.pathname.replace(/\/+$/, '')
    if (input.forcePathStyle) {
      origin = endpoint
      path = `${base}/${bucket}/${key}`
    } else {
      origin = new URL(`${endpoint.protocol}//${bucket}.${endpoint.host}`)
      path = `${base}/${key}`
    }
  } else {
    const pathStyle = input.forcePathStyle || bucket.includes('.')
    origin = new URL(pathStyle ? `https://s3.${region}.amazonaws.com` : `https://${bucket}.s3.${region}.amazonaws.com`)
    path = pathStyle ? `/${bucket}/${key}` : `/${key}`
  }

  const scope = `${day}/${region}/s3/aws4_request`
  // X-Amz-Content-Sha256 as the SDK's S3 presigner sends it (the test compares the two signatures)
  const query: Array<[string, string]> = [
    ['X-Amz-Content-Sha256', 'UNSIGNED-PAYLOAD'],
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', stamp],
    ['X-Amz-Expires', String(input.expiresIn)],
    ['X-Amz-SignedHeaders', 'host'],
  ]
  if (credentials.sessionToken !== undefined && credentials.sessionToken !== '') query.push(['X-Amz-Security-Token', credentials.sessionToken])
  if (input.versionId !== undefined) query.push(['versionId', input.versionId])
  const canonicalQuery = query
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
  // URL.host leaves out a default port, as Node's HTTP client does in the Host header it sends
  const canonicalRequest = ['GET', path, canonicalQuery, `host:${origin.host}`, '', 'host', 'UNSIGNED-PAYLOAD'].join('\n')
  const stringToSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256(canonicalRequest)].join('\n')
  const signingKey = signingKeyFor(credentials.secretAccessKey, day, region)
  const signature = createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex')
  return `${origin.protocol}//${origin.host}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`
}

// The signing key depends only on the secret, the day and the region: derived once per day rather than with four
// HMACs per URL (the function presigns the GET of every request's image, direct-get.ts).
const signingKeys = new Map<string, Buffer>()

function signingKeyFor (secretAccessKey: string, day: string, region: string): Buffer {
  const id = `${day}\n${region}\n${secretAccessKey}`
  let key = signingKeys.get(id)
  if (key === undefined) {
    key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, day), region), 's3'), 'aws4_request')
    // Rotated credentials and new days add keys: keep only the latest few.
    if (signingKeys.size >= 8) signingKeys.clear()
    signingKeys.set(id, key)
  }
  return key
}
