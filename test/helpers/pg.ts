import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** The PostgreSQL server of the project's machines (trust auth); `.ci/run` starts it if it is stopped. */
export const PG_ADMIN_URL = process.env.MODELPIN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Creates an empty database with a unique name for one test file and drops it afterwards; returns its URL. */
export async function createTestDatabase (t: Teardown): Promise<string> {
  const name = `modelpin_test_${randomBytes(5).toString('hex')}`
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  t.teardown(async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL })
    await c.connect()
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    } finally {
      await c.end()
    }
  })
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  return url.toString()
}
