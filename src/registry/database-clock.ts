import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely'

/**
 * The database's clock, in the ISO-8601 form every timestamp column holds: leases (alias locks, rollouts) are
 * written and judged by it, so processes whose own clocks disagree still agree on who holds what.
 */

/** The database's now. */
export function databaseNow (db: Kysely<any>): RawBuilder<string> {
  return isPostgres(db)
    ? sql<string>`to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`
}

/** The database's now plus `ms`. */
export function databaseNowPlus (db: Kysely<any>, ms: number): RawBuilder<string> {
  const seconds = ms / 1000
  return isPostgres(db)
    ? sql<string>`to_char((now() + make_interval(secs => ${seconds}::double precision)) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
    : sql<string>`strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ${`${seconds >= 0 ? '+' : ''}${seconds.toFixed(3)} seconds`})`
}

function isPostgres (db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter
}
