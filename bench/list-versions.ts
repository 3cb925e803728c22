/**
 * Listing 1,000 S3 versions of one key through the admin API (over a real socket, pages as large as the API allows)
 * against the raw ListObjectVersions calls for the same versions, in the same run: `list_versions_ratio` = API / raw
 * (medians of a few alternating repeats). The API's first listing (nothing warmed up) is reported on its own. Each
 * API page is one ListObjectVersions request plus one query for the digests the registry recorded: no HEAD per
 * version, so these versions (put directly, unknown to the registry) list with sha256 null.
 *
 *   npx tsx bench/list-versions.ts
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateBucketCommand, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3'
import { createS3Client, s3SettingsFromEnv } from '../src/aws/s3-client.js'
import { DEFAULT_MAX_UPLOAD_BYTES } from '../src/api/config.js'
import { startApiServer } from '../src/api/server.js'
import { MAX_LIST_LIMIT } from '../src/contract/limits.js'
import { removeBucket } from '../test/helpers/s3.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

const VERSIONS = 1000
/** puts in flight at once while the versions are made */
const PUT_CONCURRENCY = 32
const REPEATS = 11
const KEY = 'bench/model.onnx'

type Figures = Record<string, number | string>

export default async function run (): Promise<Figures> {
  const settings = s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480', ...process.env })
  const credentials = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'modelpin',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'modelpin-secret',
  }
  const s3 = createS3Client(settings, credentials)
  const bucket = `bench-versions-${randomBytes(4).toString('hex')}`
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
  const dataDir = await mkdtemp(join(tmpdir(), 'modelpin-bench-versions-'))
  try {
    const putStarted = performance.now()
    await putVersions(s3, bucket)
    const putMs = performance.now() - putStarted

    const server = await startApiServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      databaseUrl: `sqlite:${join(dataDir, 'registry.db')}`,
      adminToken: undefined,
      uploadTmpDir: dataDir,
      logLevel: 'warn',
      s3: settings,
      lambdaEndpoint: undefined,
      lockTtlSeconds: 30,
      reconcileSeconds: 60,
      liveCacheMs: 2000,
      evaluationConcurrency: 4,
      evaluationInvokeTimeoutMs: 60_000,
      cloudwatchEndpoint: undefined,
      metricsPeriodSeconds: 60,
      metricsDelaySeconds: 180,
      maxUploadBytes: DEFAULT_MAX_UPLOAD_BYTES,
      bodyTimeoutMs: 30_000,
      authFailuresPerMinute: 20,
      autoMigrate: true,
      pgConnectTimeoutMs: 5000,
      pgStatementTimeoutMs: 30_000,
    }, { s3Credentials: credentials })
    try {
      const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()
      const created = await fetch(`${server.url}/v1/models`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bench', bucket, weightsKey: KEY, labelsKey: 'bench/labels.txt' }),
      })
      if (created.status !== 201) throw new Error(`registering the model answered ${created.status}: ${await created.text()}`)

      const viaApi = (): Promise<number> => listThroughApi(server.url, token)
      const viaS3 = (): Promise<number> => listRaw(s3, bucket)
      const cold = await timed(viaApi)
      await timed(viaS3)
      const api: number[] = []
      const raw: number[] = []
      for (let i = 0; i < REPEATS; i++) {
        api.push(await timed(viaApi))
        raw.push(await timed(viaS3))
      }
      const apiMs = median(api)
      const rawMs = median(raw)
      return {
        list_versions_ratio: apiMs / rawMs,
        list_versions_api_ms: apiMs,
        list_versions_raw_ms: rawMs,
        list_versions_api_cold_ms: cold,
        list_versions_put_1000_ms: putMs,
      }
    } finally {
      await server.close()
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true })
    await removeBucket(s3, bucket)
    s3.destroy()
  }
}

/** VERSIONS small versions of KEY, PUT_CONCURRENCY at a time, each with its sha256 as metadata like an upload. */
async function putVersions (s3: S3Client, bucket: string): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < VERSIONS; i = next++) {
      const body = `weights version ${i} ${randomBytes(8).toString('hex')}`
      await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: KEY, Body: body, Metadata: { sha256: createHash('sha256').update(body).digest('hex') },
      }))
    }
  }
  await Promise.all(Array.from({ length: PUT_CONCURRENCY }, worker))
}

/** Every version through the API, following nextCursor; returns how many it saw (checked against VERSIONS). */
async function listThroughApi (url: string, token: string): Promise<number> {
  let count = 0
  let cursor: string | null = null
  do {
    const query = new URLSearchParams({ limit: String(MAX_LIST_LIMIT), ...(cursor === null ? {} : { cursor }) })
    const response = await fetch(`${url}/v1/models/bench/artifacts/weights/versions?${query.toString()}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    if (response.status !== 200) throw new Error(`listing answered ${response.status}: ${await response.text()}`)
    const page = await response.json() as { versions: unknown[], nextCursor: string | null }
    count += page.versions.length
    cursor = page.nextCursor
  } while (cursor !== null)
  return count
}

/** The same versions with ListObjectVersions directly, pages of S3's maximum. */
async function listRaw (s3: S3Client, bucket: string): Promise<number> {
  let count = 0
  let keyMarker: string | undefined
  let versionIdMarker: string | undefined
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({
      Bucket: bucket, Prefix: KEY, MaxKeys: MAX_LIST_LIMIT, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker,
    }))
    count += (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0)
    if (page.IsTruncated !== true) return count
    keyMarker = page.NextKeyMarker
    versionIdMarker = page.NextVersionIdMarker
  }
}

async function timed (list: () => Promise<number>): Promise<number> {
  const started = performance.now()
  const count = await list()
  const ms = performance.now() - started
  if (count !== VERSIONS) throw new Error(`a listing saw ${count} versions instead of ${VERSIONS}`)
  return ms
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

printWhenRunDirectly(import.meta.url, run)
