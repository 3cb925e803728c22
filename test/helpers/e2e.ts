import { join } from 'node:path'
import type { LambdaClient } from '@aws-sdk/client-lambda'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { pino } from 'pino'
import { loadApiConfig } from '../../src/api/config.js'
import { startApiServer } from '../../src/api/server.js'
import { createLambdaClient, LambdaDeployer } from '../../src/deploy/lambda-deployer.js'
import type { Stack, StackOptions } from '../../src/local/stack.js'
import { adminApi, stackLambda, type Answer } from './admin-api.js'
import { colourPhoto } from './images.js'
import type { Colour } from './models.js'
import { waitFor } from './move-world.js'
import { createTestBucket, testS3Client } from './s3.js'
import { startTestStack } from './stack.js'

interface Teardown { teardown: (fn: () => unknown) => void }

/**
 * What the tests need of an admin API client: each call answers the status, the ETag and the parsed body, and
 * never throws because of a status.
 */
export interface AdminClient {
  get: (path: string) => Promise<Answer>
  post: (path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>
  patch: (path: string, body: unknown) => Promise<Answer>
  del: (path: string, headers?: Record<string, string>) => Promise<Answer>
}

/** The admin API at `url` with `token`. Every end-to-end test reaches the API through here: swap the client here. */
export function adminClient (url: string, token: string): AdminClient {
  return adminApi(url, token)
}

/** The body of a set-up call's answer; throws with the answer when the call did not succeed (2xx). */
export function succeeded (answer: Answer, what = 'the call'): any {
  if (answer.status < 200 || answer.status > 299) throw new Error(`${what} answered ${answer.status}: ${JSON.stringify(answer.body)}`)
  return answer.body
}

/** Runs an evaluation through the API and answers it once it is no longer running (within two minutes). */
export async function evaluateUntilDone (api: AdminClient, model: string, body: Record<string, unknown>): Promise<any> {
  const created = succeeded(await api.post(`/v1/models/${model}/evaluations`, body), 'creating the evaluation')
  return await waitFor(async () => {
    const read = succeeded(await api.get(`/v1/models/${model}/evaluations/${created.id as string}`))
    return read.status === 'running' ? undefined : read
  }, 120_000)
}

/** The demo model's two releases as the stack registered them: release n = weights version n + labels version n. */
export interface SeededRelease {
  number: number
  weightsVersionId: string
  labelsVersionId: string
  weightsSha256: string
  labelsSha256: string
}

/** Reads releases 1 and 2 of the stack's model over the API. */
export async function seededReleases (stack: Stack): Promise<[SeededRelease, SeededRelease]> {
  const listed = succeeded(await adminClient(stack.info.endpoints.api, stack.token).get(`/v1/models/${stack.info.model.name}/releases`),
    'listing releases')
  const byNumber = (n: number): SeededRelease => {
    const release = listed.releases.find((r: SeededRelease) => r.number === n)
    if (release === undefined) throw new Error(`the stack has no release ${n}`)
    return release
  }
  return [byNumber(1), byNumber(2)]
}

/** What a release looks like over the admin API (the fields these tests read). */
export interface ApiRelease { number: number, weightsVersionId: string, labelsVersionId: string }

/** The release the stack's model serves on its deploy alias, read from the API, and the Lambda version behind it. */
export async function deployedRelease (stack: Stack): Promise<{ release: ApiRelease, functionVersion: string }> {
  const api = adminClient(stack.info.endpoints.api, stack.token)
  const { name, deployAlias } = stack.info.model
  const alias = succeeded(await api.get(`/v1/models/${name}/aliases/${deployAlias}`), `reading alias ${deployAlias}`)
  if (alias.live === null) throw new Error(`Lambda serves nothing for ${deployAlias}: ${alias.liveError as string}`)
  const release = succeeded(await api.get(`/v1/models/${name}/releases/${alias.release as number}`), 'reading the release') as ApiRelease
  return { release, functionVersion: alias.live.functionVersion }
}

/** Promotes `release` to the stack's deploy alias through the API; answers the Lambda version it now serves. */
export async function promote (stack: Stack, release: number): Promise<string> {
  const { name, deployAlias } = stack.info.model
  succeeded(await adminClient(stack.info.endpoints.api, stack.token)
    .post(`/v1/models/${name}/aliases/${deployAlias}/promote`, { release, reason: 'end-to-end test' }), `promoting release ${release}`)
  return (await deployedRelease(stack)).functionVersion
}

export interface EndToEndOptions extends Partial<StackOptions> {
  /** objects put into the test's photo bucket before it starts: key -> the colour of a generated photo, or bytes */
  photos?: Record<string, Colour | Buffer>
}

export interface EndToEnd {
  stack: Stack
  /** the admin API with the stack's admin token */
  api: AdminClient
  /** `@aws-sdk/client-lambda` as a user points it at the stack's runtime */
  lambda: LambdaClient
  /** an S3 client on radosgw with the tests' keys */
  s3: S3Client
  /** releases 1 and 2 of the demo model (production serves release 1) */
  releases: [SeededRelease, SeededRelease]
  /**
   * A versioned bucket of the test's own with `options.photos` in it, and the VersionId each got. Not the input
   * bucket: a photo put there would invoke the function on its own.
   */
  photos: { bucket: string, versionIds: Record<string, string | undefined> }
}

/**
 * The set-up of an end-to-end test: the local stack on the tiny model (stopped after the test), the admin API and
 * Lambda clients on it, the demo model's releases, and the test's photos in a bucket of its own.
 */
export async function startEndToEnd (t: Teardown, options: EndToEndOptions = {}): Promise<EndToEnd> {
  const { photos = {}, ...stackOptions } = options
  const stack = await startTestStack(t, stackOptions)
  const s3 = testS3Client()
  t.teardown(() => s3.destroy())
  const bucket = await createTestBucket(t, s3, { prefix: 'photos' })
  const versionIds: Record<string, string | undefined> = {}
  for (const [key, content] of Object.entries(photos)) {
    const body = typeof content === 'string' ? await colourPhoto(content) : content
    versionIds[key] = (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId
  }
  return {
    stack,
    api: adminClient(stack.info.endpoints.api, stack.token),
    lambda: stackLambda(t, stack),
    s3,
    releases: await seededReleases(stack),
    photos: { bucket, versionIds },
  }
}

/**
 * Starts the admin API again on the stack's data dir and Lambda runtime, as the stack builds it (the caller stops
 * the stack's own API first); stopped after the test. Answers an admin client of the new API.
 */
export async function restartApi (t: Teardown, stack: Stack): Promise<AdminClient> {
  const { accessKeyId, secretAccessKey, region } = stack.info.credentials
  const lambda = createLambdaClient({ endpoint: stack.info.endpoints.lambda, region, credentials: { accessKeyId, secretAccessKey } })
  t.teardown(() => lambda.destroy())
  const logger = pino({ level: 'silent' })
  const restarted = await startApiServer(loadApiConfig({
    MODELPIN_API_HOST: '127.0.0.1',
    MODELPIN_API_PORT: '0',
    MODELPIN_DATA_DIR: join(stack.info.adminTokenFile, '..'),
    AWS_ENDPOINT_URL_S3: stack.info.endpoints.s3,
    AWS_ENDPOINT_URL_LAMBDA: stack.info.endpoints.lambda,
    AWS_REGION: region,
  }), { logger, deployer: new LambdaDeployer({ lambda, logger }), s3Credentials: { accessKeyId, secretAccessKey } })
  t.teardown(() => restarted.close())
  return adminClient(restarted.url, stack.token)
}
