import { DEFAULT_DATABASE_URL, migrateDatabase, openDatabase } from './db.js'

/** `npm run db:migrate`: applies the pending migrations to the database named by DATABASE_URL. */
async function main (): Promise<void> {
  const url = process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === ''
    ? DEFAULT_DATABASE_URL
    : process.env.DATABASE_URL
  const database = await openDatabase(url)
  try {
    const { applied, backup } = await migrateDatabase(database)
    const where = `${database.dialect} database ${redact(url)}`
    if (backup !== null) console.log(`copied the database to ${backup} first`)
    console.log(applied.length === 0
      ? `${where} is up to date`
      : `applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}`)
  } finally {
    await database.close()
  }
}

/** The URL without its password, fit for a terminal. */
function redact (url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]+):[^@]*@/, '$1:***@')
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
})
