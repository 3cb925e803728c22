import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrateToLatest, openDatabase, type RegistryDatabase } from '../../src/registry/db.js'
import { createTestDatabase } from './pg.js'

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

/** Opens and migrates a fresh registry database of `kind`; it is closed (before it is removed) after the test. */
export async function openTestDatabase (t: Teardown, kind: DatabaseKind): Promise<RegistryDatabase> {
  // The database must be closed before it is dropped: collect the removal and run it after the close.
  const removals: Array<() => unknown> = []
  const url = await testDatabaseUrl({ teardown: (fn) => removals.push(fn) }, kind)
  const database = await openDatabase(url)
  t.teardown(async () => {
    await database.close()
    for (const remove of removals) await remove()
  })
  await migrateToLatest(database.db)
  return database
}
