import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildApp, type BuildOptions } from '../../src/api/app.js'
import type { ApiConfig } from '../../src/api/config.js'
import { createTestDatabase } from './pg.js'
import { createTestBucket, S3_CREDENTIALS, S3_SETTINGS, testS3Client } from './s3.js'

interface TestContext { teardown: (fn: () => unknown) => void }

export interface TestAppOptions extends BuildOptions {
  /** the registry database: a SQLite file in the data directory (default) or a fresh PostgreSQL database */
  database?: 'sqlite' | 'postgres'
  /** overrides of the test configuration (e.g. a wrong S3 endpoint) */
  config?: Partial<ApiConfig>
  /** reuse this data directory (a restart of the app on the same data); it is then not removed by this helper */
  dataDir?: string
}

export interface ApiAnswer {
  status: number
  headers: Record<string, string | string[] | number | undefined>
  /** the parsed JSON body (undefined when the body is not JSON) */
  body: any
  text: string
}

export interface TestApp {
  app: FastifyInstance
  config: ApiConfig
  s3: S3Client
  /** a versioned test bucket, emptied and removed after the test */
  bucket: string
  dataDir: string
  /** the bootstrapped admin token, as read from `<dataDir>/admin-token` */
  adminToken: string
  /** `app.inject` with a bearer token (the admin's unless `token` is given; `null` sends none) and a parsed body */
  api: (method: InjectOptions['method'], url: string, options?: {
    token?: string | null, body?: unknown, headers?: Record<string, string>
  }) => Promise<ApiAnswer>
  /** registers a registry-only model (no Lambda function) on the test bucket */
  createModel: (name: string, fields?: Record<string, unknown>) => Promise<ApiAnswer>
  /** uploads `bytes` as a new version of a model's weights or labels through the API */
  upload: (model: string, kind: 'weights' | 'labels', bytes: Buffer | string, token?: string) => Promise<ApiAnswer>
  /**
   * A model (registry-only unless `fields` name a function) with `count` releases through the API: release n pairs
   * the n-th weights upload with one labels upload. Answers the release numbers' version IDs.
   */
  modelWithReleases: (name: string, count: number, fields?: Record<string, unknown>) => Promise<Array<{ number: number, weightsVersionId: string, labelsVersionId: string }>>
  /** object versions and delete markers in the test bucket */
  versionCount: () => Promise<number>
}

/**
 * Builds the admin API for one test against radosgw and a real database: a fresh versioned bucket, a temporary
 * data directory (SQLite database and admin token file), the app, and its admin token; all torn down after the test.
 */
export async function build (t: TestContext, options: TestAppOptions = {}): Promise<TestApp> {
  const { database = 'sqlite', config: overrides = {}, dataDir: givenDataDir, ...buildOptions } = options
  const s3 = testS3Client()
  t.teardown(() => { s3.destroy() })
  const bucket = await createTestBucket(t, s3)
  const dataDir = givenDataDir ?? await mkdtemp(join(tmpdir(), 'modelpin-api-test-'))
  if (givenDataDir === undefined) t.teardown(() => rm(dataDir, { recursive: true, force: true }))
  const databaseUrl = database === 'postgres' ? await createTestDatabase(t) : `sqlite:${join(dataDir, 'registry.db')}`

  const config: ApiConfig = {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl,
    adminToken: undefined,
    uploadTmpDir: dataDir,
    logLevel: process.env.LOG_LEVEL ?? 'silent',
    s3: S3_SETTINGS,
    lambdaEndpoint: undefined,
    lockTtlSeconds: 30,
    reconcileSeconds: 60,
    liveCacheMs: 2000,
    evaluationConcurrency: 4,
    evaluationInvokeTimeoutMs: 60_000,
    cloudwatchEndpoint: undefined,
    metricsPeriodSeconds: 60,
    metricsDelaySeconds: 180,
    maxUploadBytes: 4 * 1024 ** 3,
    bodyTimeoutMs: 30_000,
    authFailuresPerMinute: 20,
    autoMigrate: true,
    pgConnectTimeoutMs: 5000,
    pgStatementTimeoutMs: 30_000,
    ...overrides,
  }
  const app = await buildApp(config, { s3Credentials: S3_CREDENTIALS, ...buildOptions })
  // registered last, so it runs first: the app lets go of the database before the database is dropped
  t.teardown(() => app.close())
  const adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim()

  const api: TestApp['api'] = async (method, url, requestOptions = {}) => {
    const token = requestOptions.token === undefined ? adminToken : requestOptions.token
    const response = await app.inject({
      method,
      url,
      headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...requestOptions.headers },
      ...(requestOptions.body === undefined ? {} : { payload: requestOptions.body as InjectOptions['payload'] }),
    })
    let body: unknown
    try {
      body = JSON.parse(response.body)
    } catch {
      body = undefined
    }
    return { status: response.statusCode, headers: response.headers, body, text: response.body }
  }

  const createModel: TestApp['createModel'] = (name, fields = {}) => api('POST', '/v1/models', {
    body: { name, bucket, weightsKey: `${name}/model.onnx`, labelsKey: `${name}/labels.txt`, ...fields },
  })
  const upload: TestApp['upload'] = async (model, kind, bytes, token) => {
    const answer = await api('PUT', `/v1/models/${model}/artifacts/${kind}`, {
      body: Buffer.from(bytes), headers: { 'content-type': 'application/octet-stream' }, ...(token === undefined ? {} : { token }),
    })
    return answer
  }

  return {
    app,
    config,
    s3,
    bucket,
    dataDir,
    adminToken,
    api,
    createModel,
    upload,
    modelWithReleases: async (name, count, fields) => {
      const created = await createModel(name, fields)
      if (created.status !== 201) throw new Error(`creating model ${name} answered ${created.status}: ${created.text}`)
      const labels = await upload(name, 'labels', 'cat\ndog\n')
      const releases = []
      for (let n = 1; n <= count; n++) {
        const weights = await upload(name, 'weights', `weights of release ${n}`)
        const release = await api('POST', `/v1/models/${name}/releases`, {
          body: { weightsVersionId: weights.body.versionId, labelsVersionId: labels.body.versionId, notes: `release ${n}` },
        })
        if (release.status !== 201) throw new Error(`registering release ${n} answered ${release.status}: ${release.text}`)
        releases.push({ number: release.body.number, weightsVersionId: weights.body.versionId, labelsVersionId: labels.body.versionId })
      }
      return releases
    },
    versionCount: async () => {
      let count = 0
      let keyMarker: string | undefined
      let versionIdMarker: string | undefined
      for (;;) {
        const page = await s3.send(new ListObjectVersionsCommand({
          Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker,
        }))
        count += (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0)
        if (page.IsTruncated !== true) return count
        keyMarker = page.NextKeyMarker
        versionIdMarker = page.NextVersionIdMarker
      }
    },
  }
}
