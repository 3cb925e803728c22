import { PostgresAdapter, sql, type Kysely } from 'kysely'

/** Every table of a database and its rows, to prove that a refused request changed nothing. */
export type DatabaseSnapshot = Record<string, unknown[]>

/**
 * The rows of every table in the database, found by asking the database (SQLite's `sqlite_master`, PostgreSQL's
 * `information_schema`) rather than from a list, so a table added by a migration is covered without anyone
 * remembering to add it. Kysely's own migration tables are included: a refused request must not migrate either.
 * Rows are sorted, so two snapshots compare equal whatever order the database returns them in. A token's
 * `last_used_at` is left out: every request with a token may set it (at most once a minute), and the contract counts
 * that as no change.
 */
export async function snapshotTables (db: Kysely<any>): Promise<DatabaseSnapshot> {
  const tables = db.getExecutor().adapter instanceof PostgresAdapter
    ? await sql<{ name: string }>`select table_name as name from information_schema.tables
        where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(db)
    : await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(db)
  const snapshot: DatabaseSnapshot = {}
  for (const { name } of tables.rows.sort((a, b) => a.name.localeCompare(b.name))) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(db)
    const kept = name === 'api_tokens' ? rows.rows.map((row) => ({ ...row, last_used_at: null })) : rows.rows
    snapshot[name] = kept.map((row) => JSON.stringify(row)).sort().map((row) => JSON.parse(row) as unknown)
  }
  return snapshot
}
