import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import type { S3Client } from '@aws-sdk/client-s3'
import { S3ArtifactStore } from '../../src/registry/artifact-store.js'
import type { MigrationProvider } from 'kysely'
import { migrateToLatest, openDatabase, REGISTRY_MIGRATIONS, type RegistryDatabase } from '../../src/registry/db.js'
import type { ModelInput, Release } from '../../src/registry/model.js'
import { Registry } from '../../src/registry/registry.js'
import { createTestDatabase } from './pg.js'
import { createTestBucket, testS3Client } from './s3.js'

export type DatabaseKind = 'sqlite' | 'postgres'
/** Every registry test runs on both databases the registry supports. */
export const DATABASE_KINDS: readonly DatabaseKind[] = ['sqlite', 'postgres']

interface Teardown { teardown: (fn: () => unknown) => void }

/** A fresh database URL of `kind` (a SQLite file in a temporary folder, or a new PostgreSQL database), removed after the test. */
export async function testDatabaseUrl (t: Teardown, kind: DatabaseKind): Promise<string> {
  if (kind === 'postgres') return await createTestDatabase(t)
  const folder = await mkdtemp(join(tmpdir(), 'modelpin-registry-'))
  t.teardown(() => rm(folder, { recursive: true, force: true }))
  return `sqlite:${join(folder, 'registry.db')}`
}

/**
 * Opens a fresh registry database of `kind`, migrated unless told otherwise (migration tests migrate it themselves);
 * it is closed (before it is removed) after the test.
 */
export async function openTestDatabase (t: Teardown, kind: DatabaseKind, options: { migrate?: boolean } = {}): Promise<RegistryDatabase> {
  // The database must be closed before it is dropped: collect the removal and run it after the close.
  const removals: Array<() => unknown> = []
  const url = await testDatabaseUrl({ teardown: (fn) => removals.push(fn) }, kind)
  const database = await openDatabase(url)
  t.teardown(async () => {
    await database.close()
    for (const remove of removals) await remove()
  })
  if (options.migrate !== false) await migrateToLatest(database.db)
  return database
}

/** The registry's migrations up to and including `last`: a database as an earlier modelpin left it. */
export function migrationsUpTo (last: string): MigrationProvider {
  const names = Object.keys(REGISTRY_MIGRATIONS)
  const end = names.indexOf(last)
  if (end < 0) throw new Error(`there is no migration ${last}`)
  return { getMigrations: async () => Object.fromEntries(names.slice(0, end + 1).map((name) => [name, REGISTRY_MIGRATIONS[name]!])) }
}

/** A registry over a fresh database of `kind` and a fresh versioned bucket on radosgw, without a Lambda deployer. */
export async function createTestRegistry (t: Teardown, kind: DatabaseKind): Promise<{ database: RegistryDatabase, registry: Registry, store: S3ArtifactStore, s3: S3Client, bucket: string }> {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const database = await openTestDatabase(t, kind)
  const store = new S3ArtifactStore({ s3 })
  return { database, registry: new Registry({ db: database.db, store }), store, s3, bucket }
}

/**
 * Registers model `name` (registry-only unless `functionName` is given) with `count` releases: release n pairs
 * the n-th uploaded weights version with one labels version.
 */
export async function registerModelWithReleases (
  registry: Registry, bucket: string, name: string, count: number, extra: Partial<ModelInput> = {}
): Promise<Release[]> {
  await registry.createModel({ name, bucket, weightsKey: `${name}/model.onnx`, labelsKey: `${name}/labels.txt`, ...extra }, 'test-admin')
  const labels = await registry.uploadArtifact(name, 'labels', Readable.from(['cat\ndog\n']))
  const releases: Release[] = []
  for (let n = 1; n <= count; n++) {
    const weights = await registry.uploadArtifact(name, 'weights', Readable.from([`weights ${n}`]))
    releases.push(await registry.createRelease(name, { weightsVersionId: weights.versionId, labelsVersionId: labels.versionId, notes: `release ${n}` }, 'test-admin'))
  }
  return releases
}
