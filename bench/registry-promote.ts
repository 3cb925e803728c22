/**
 * Registry-only promote latency (no Lambda): claim the alias, move it, bump the revision and append its history
 * entry, on SQLite and on PostgreSQL. Baseline measured in the same run: one trivial query (`select 1`) on the same
 * database, so the figures can be read as "a promote costs N round trips".
 *
 *   npx tsx bench/registry-promote.ts
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import {
  CreateBucketCommand, PutBucketVersioningCommand, type S3Client,
} from '@aws-sdk/client-s3'
import pg from 'pg'
import { createS3Client, s3SettingsFromEnv } from '../src/aws/s3-client.js'
import { S3ArtifactStore } from '../src/registry/artifact-store.js'
import { migrateToLatest, openDatabase, pingDatabase } from '../src/registry/db.js'
import { Registry } from '../src/registry/registry.js'
import { removeBucket } from '../test/helpers/s3.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

const PROMOTES = 400
const WARMUP = 30
const PG_ADMIN_URL = process.env.MODELPIN_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

type Figures = Record<string, number | string>

export default async function run (): Promise<Figures> {
  const s3 = createS3Client(
    s3SettingsFromEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480', ...process.env }),
    { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'modelpin', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'modelpin-secret' }
  )
  const bucket = `bench-promote-${randomBytes(4).toString('hex')}`
  await s3.send(new CreateBucketCommand({ Bucket: bucket }))
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }))
  const folder = await mkdtemp(join(tmpdir(), 'modelpin-bench-'))
  const figures: Figures = {}
  try {
    Object.assign(figures, suffixed(await measure(`sqlite:${join(folder, 'registry.db')}`, s3, bucket), 'sqlite'))
    const pgUrl = await createPgDatabase().catch((error: unknown) => error instanceof Error ? error : new Error(String(error)))
    if (pgUrl instanceof Error) {
      for (const key of ['registry_promote_p50_ms', 'registry_promote_p99_ms']) figures[`${key}_postgres`] = `unavailable: ${pgUrl.message}`
    } else {
      try {
        Object.assign(figures, suffixed(await measure(pgUrl.url, s3, bucket), 'postgres'))
      } finally {
        await pgUrl.drop()
      }
    }
  } finally {
    await rm(folder, { recursive: true, force: true })
    await removeBucket(s3, bucket)
    s3.destroy()
  }
  return figures
}

/** p50 and p99 of PROMOTES promotes alternating between two releases, and of `select 1` on the same database. */
async function measure (url: string, s3: S3Client, bucket: string): Promise<Figures> {
  const database = await openDatabase(url)
  try {
    await migrateToLatest(database.db)
    const registry = new Registry({ db: database.db, store: new S3ArtifactStore({ s3 }) })
    const model = `bench-${database.dialect}`
    await registry.createModel({ name: model, bucket, weightsKey: `${model}/model.onnx`, labelsKey: `${model}/labels.txt` }, 'bench')
    const labels = await registry.uploadArtifact(model, 'labels', Readable.from(['cat\ndog\n']))
    for (const n of [1, 2]) {
      const weights = await registry.uploadArtifact(model, 'weights', Readable.from([`weights ${n}`]))
      await registry.createRelease(model, { weightsVersionId: weights.versionId, labelsVersionId: labels.versionId }, 'bench')
    }
    let revision = 0
    const promote = async (i: number): Promise<void> => {
      const moved = await registry.promote(model, 'production', { release: 1 + (i % 2), reason: 'bench', ...(revision === 0 ? {} : { ifMatch: revision }) }, 'bench')
      revision = moved.revision
    }
    for (let i = 0; i < WARMUP; i++) await promote(i)
    const promotes = await timed(PROMOTES, promote)
    const pings = await timed(PROMOTES, () => pingDatabase(database.db))
    return {
      registry_promote_p50_ms: percentile(promotes, 0.5),
      registry_promote_p99_ms: percentile(promotes, 0.99),
      registry_ping_p50_ms: percentile(pings, 0.5),
      registry_promote_over_ping_p50: percentile(promotes, 0.5) / percentile(pings, 0.5),
    }
  } finally {
    await database.close()
  }
}

async function timed (count: number, action: (i: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await action(i)
    samples.push(performance.now() - started)
  }
  return samples
}

function percentile (samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

function suffixed (figures: Figures, suffix: string): Figures {
  return Object.fromEntries(Object.entries(figures).map(([key, value]) => [`${key}_${suffix}`, value]))
}

async function createPgDatabase (): Promise<{ url: string, drop: () => Promise<void> }> {
  const name = `modelpin_bench_${randomBytes(4).toString('hex')}`
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 })
    await client.connect()
    try {
      await client.query(statement)
    } finally {
      await client.end()
    }
  }
  await admin(`CREATE DATABASE ${name}`)
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) }
}

printWhenRunDirectly(import.meta.url, run)
