import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely'

/**
 * Times judged by the database's clock, never a process's: leases (alias locks, evaluations, rollouts) are
 * written and compared with these, so a replica whose clock is off can neither steal a live lease nor keep a dead one.
 */

/** The database's now, in the ISO-8601 form every timestamp column holds. */
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
