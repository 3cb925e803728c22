import { mkdirSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import Database from 'better-sqlite3'
import {
  Kysely, Migrator, PostgresDialect, SqliteAdapter, SqliteDialect, sql,
  type ColumnType, type DialectAdapter, type Generated, type Migration, type MigrationProvider,
} from 'kysely'
import pg from 'pg'
import type { Logger } from 'pino'
import * as registry0001 from '../../migrations/0001-registry.js'
import * as artifactDigests0002 from '../../migrations/0002-artifact-digests.js'
import * as modelVersionAndFunctionAliasOwners0003 from '../../migrations/0003-model-version-and-function-alias-owners.js'
import * as aliasLockOwners0004 from '../../migrations/0004-alias-lock-owners-and-intended-moves.js'
import * as modelPrewarm0005 from '../../migrations/0005-model-prewarm.js'
import * as tokenLifecycle0006 from '../../migrations/0006-token-lifecycle.js'
import * as evaluations0007 from '../../migrations/0007-evaluations-and-promotion-policy.js'
import * as rollouts0008 from '../../migrations/0008-rollouts.js'

/** Row types of the registry's tables (snake_case, as in migrations/). Timestamps are ISO-8601 text. */
export interface ModelsTable {
  name: string
  bucket: string
  weights_key: string
  labels_key: string
  function_name: string | null
  function_alias: string
  deploy_alias: string
  /** JSON text: `[{bucket, key}]` */
  gate_images: string
  /** warm-up invocations before a move routes Lambda (migrations/0005) */
  prewarm: ColumnType<number, number | undefined, number>
  created_at: string
  updated_at: string
  /** 1 at registration, +1 per update (migrations/0003); the model's ETag */
  version: ColumnType<number, number | undefined, number>
  /** JSON text of the promotion policy, or null (migrations/0007) */
  promotion_policy: ColumnType<string | null, string | null | undefined, string | null>
}

/** One evaluation (migrations/0007): a candidate release against a baseline on chosen inputs. */
export interface EvaluationsTable {
  id: string
  model: string
  candidate: number
  baseline: number
  /** running, succeeded or failed */
  status: string
  failure: string | null
  reason: string | null
  actor: string
  started_at: string
  finished_at: string | null
  input_bucket: string
  input_prefix: string
  input_count: number
  /** JSON text of its EvaluationFigures once it ended; null while running */
  figures: string | null
  /** held by the one process running it; expired (by the database's clock) it is taken over */
  lease_token: string | null
  lease_owner: string | null
  lease_expires_at: string | null
}

/** An input an evaluation chose when it started, and each side's answer once recorded (JSON text of a SideAnswer). */
export interface EvaluationInputsTable {
  evaluation: string
  position: number
  key: string
  version_id: string | null
  baseline_answer: string | null
  candidate_answer: string | null
}

/** Which model drives each Lambda alias (migrations/0003): one per (function_name, function_alias). */
export interface FunctionAliasOwnersTable {
  function_name: string
  function_alias: string
  model: string
}

export interface ReleasesTable {
  model: string
  number: number
  weights_version_id: string
  labels_version_id: string
  weights_sha256: string
  labels_sha256: string
  weights_size: number
  labels_size: number
  notes: string | null
  created_at: string
  created_by: string
}

export interface AliasesTable {
  model: string
  name: string
  /** null while the alias's first move has not succeeded yet */
  release: number | null
  revision: number
  updated_at: string
  /** the Lambda version serving `release` (deploy alias only) */
  function_version: string | null
  canary_release: number | null
  canary_weight: number | null
  canary_function_version: string | null
  /** held by the one move in flight; a lock whose expiry (by the database's clock) has passed can be taken over */
  lock_token: string | null
  lock_expires_at: string | null
  /** `<host>:<pid>` of the process holding the lock (migrations/0004) */
  lock_owner: string | null
  /** the move the lock's holder intends, recorded once planned (see IntendedMove in alias-locks.ts) */
  intent_action: string | null
  intent_actor: string | null
  intent_reason: string | null
  intent_from_release: number | null
  intent_to_release: number | null
  /** JSON text: `{detail, state, versions}` */
  intent_plan: string | null
}

export interface AliasHistoryTable {
  id: Generated<number>
  model: string
  alias: string
  at: string
  actor: string
  action: string
  from_release: number | null
  to_release: number | null
  reason: string | null
  outcome: string
  detail: string | null
}

export interface ApiTokensTable {
  token_sha256: string
  /** public handle (`tok_...`), never the secret (migrations/0006) */
  id: string | null
  name: string
  role: string
  created_at: string
  expires_at: string | null
  /** written at most once a minute per token */
  last_used_at: string | null
  revoked_at: string | null
  /** 1 for an admin token a process was started with (MODELPIN_ADMIN_TOKEN or the token file) */
  bootstrap: ColumnType<number, number | undefined, number>
}

export interface DeploymentsTable {
  model: string
  release: number
  function_name: string
  /** the Lambda version published for this release; a rollback reuses it */
  function_version: string
  created_at: ColumnType<string, string, never>
}

/** A digest the registry learnt for one S3 object version (migrations/0002-artifact-digests.ts). */
export interface ArtifactDigestsTable {
  bucket: string
  key: string
  version_id: string
  /** lowercase hex */
  sha256: string
  size: number
  recorded_at: string
}

/** A rollout (migrations/0008): canary steps judged on Lambda's metrics, driven by the process holding its lease. */
export interface RolloutsTable {
  id: string
  model: string
  alias: string
  release: number
  stable_release: number
  /** running, succeeded, aborted, inconclusive, cancelled, failed */
  status: string
  failure: string | null
  /** JSON text: the weights, increasing */
  steps: string
  current_step: number
  step_seconds: number
  /** JSON text: `{maxErrorRate, maxLatencyRatio, minInvocations}` */
  criteria: string
  started_at: string
  /** when the current step's weight started to serve: its metrics window opens there */
  step_started_at: string
  /** how many times step_seconds the current step's window spans (extended while it lacks invocations) */
  step_lengths: ColumnType<number, number | undefined, number>
  finished_at: string | null
  actor: string
  reason: string | null
  /** held by the one process driving the rollout; judged by the database's clock, as alias locks */
  lease_token: string | null
  lease_owner: string | null
  lease_expires_at: string | null
}

/** One verdict of a rollout step (migrations/0008). */
export interface RolloutObservationsTable {
  id: Generated<number>
  rollout_id: string
  step: number
  weight: number
  at: string
  /** JSON text: `{candidate, stable, passed, violations}` */
  figures: string
}

export interface RegistrySchema {
  models: ModelsTable
  releases: ReleasesTable
  aliases: AliasesTable
  alias_history: AliasHistoryTable
  api_tokens: ApiTokensTable
  deployments: DeploymentsTable
  artifact_digests: ArtifactDigestsTable
  function_alias_owners: FunctionAliasOwnersTable
  evaluations: EvaluationsTable
  evaluation_inputs: EvaluationInputsTable
  rollouts: RolloutsTable
  rollout_observations: RolloutObservationsTable
}

export interface RegistryDatabase {
  db: Kysely<RegistrySchema>
  dialect: 'sqlite' | 'postgres'
  /** the SQLite file (absolute), null for PostgreSQL or an in-memory SQLite database */
  file: string | null
  close (): Promise<void>
}

export interface OpenDatabaseOptions {
  logger?: Logger | undefined
  /** PostgreSQL: how long opening a connection may take (default DEFAULT_PG_CONNECT_TIMEOUT_MS) */
  pgConnectTimeoutMs?: number | undefined
  /** PostgreSQL: the server cancels a statement running longer (default DEFAULT_PG_STATEMENT_TIMEOUT_MS) */
  pgStatementTimeoutMs?: number | undefined
}

/** A PostgreSQL server that does not answer must fail a request, not hang it (MODELPIN_PG_CONNECT_TIMEOUT_MS). */
export const DEFAULT_PG_CONNECT_TIMEOUT_MS = 5000
/** The registry's statements take milliseconds; one stuck behind a lock for 30 s is better failed (MODELPIN_PG_STATEMENT_TIMEOUT_MS). */
export const DEFAULT_PG_STATEMENT_TIMEOUT_MS = 30_000

/** The default registry database: a SQLite file under `.modelpin/` (relative to the working directory). */
export const DEFAULT_DATABASE_URL = 'sqlite:.modelpin/registry.db'

/** How long a SQLite connection waits for another process's write lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000

/** PostgreSQL type id of int8 (bigint, and what count(*) returns). */
const PG_INT8_OID = 20

/**
 * Opens the registry database named by `url`: `postgres://` or `postgresql://` is a PostgreSQL pool, `sqlite:<path>`
 * or a plain path a SQLite file (its folder is created). Does not migrate: call `migrateToLatest`.
 */
export async function openDatabase (url: string, options: OpenDatabaseOptions = {}): Promise<RegistryDatabase> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({
      connectionString: url,
      connectionTimeoutMillis: options.pgConnectTimeoutMs ?? DEFAULT_PG_CONNECT_TIMEOUT_MS,
      // 0 would turn the server's timeout off; the configuration never passes it
      statement_timeout: options.pgStatementTimeoutMs ?? DEFAULT_PG_STATEMENT_TIMEOUT_MS,
      // Sizes are bigint; they stay far below 2^53, so numbers are exact and keep both dialects' rows alike.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => oid === PG_INT8_OID
          ? (value: string) => Number(value)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
      },
    })
    // An idle client losing its server must not crash the process; the next query reports the failure.
    pool.on('error', (error) => { options.logger?.warn({ err: error }, 'an idle PostgreSQL connection failed') })
    const db = new Kysely<RegistrySchema>({ dialect: new PostgresDialect({ pool }) })
    return { db, dialect: 'postgres', file: null, close: () => db.destroy() }
  }
  const path = sqlitePath(url)
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const database = new Database(path)
  database.pragma('journal_mode = WAL')
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`)
  database.pragma('foreign_keys = ON')
  const db = new Kysely<RegistrySchema>({ dialect: new TransactionalSqliteDialect({ database }) })
  return { db, dialect: 'sqlite', file: path === ':memory:' ? null : resolve(path), close: () => db.destroy() }
}

/**
 * SQLite runs DDL inside transactions, but Kysely's SQLite adapter says it does not, so its Migrator would run each
 * migration bare and a failure half way would leave half a schema. With this adapter the Migrator runs the pending
 * migrations (and their kysely_migration rows) in one transaction: all of them apply, or none.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl (): boolean { return true }
}

class TransactionalSqliteDialect extends SqliteDialect {
  override createAdapter (): DialectAdapter { return new TransactionalSqliteAdapter() }
}

function sqlitePath (url: string): string {
  if (!url.startsWith('sqlite:')) return url
  const rest = url.slice('sqlite:'.length)
  // sqlite:///abs/path.db and sqlite://rel.db are common spellings too
  return rest.startsWith('//') ? rest.slice(2) : rest
}

/**
 * Every migration of migrations/, under the name Kysely records for it in `kysely_migration`: the file name without
 * its extension, as databases migrated so far recorded them. A new file goes here too (a test checks the folder).
 * Listed rather than found by Kysely's FileMigrationProvider, which imports whatever the folder holds at run time by
 * a computed path: a bundle cannot follow that, a `dist/` without the folder would migrate nothing, and a file that
 * exports no `up` would be skipped without a word; imported here, each one is bundled and type-checked.
 */
export const REGISTRY_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-registry': registry0001,
  '0002-artifact-digests': artifactDigests0002,
  '0003-model-version-and-function-alias-owners': modelVersionAndFunctionAliasOwners0003,
  '0004-alias-lock-owners-and-intended-moves': aliasLockOwners0004,
  '0005-model-prewarm': modelPrewarm0005,
  '0006-token-lifecycle': tokenLifecycle0006,
  '0007-evaluations-and-promotion-policy': evaluations0007,
  '0008-rollouts': rollouts0008,
}

/** Kysely's migration provider for the registry's migrations. */
export const registryMigrations: MigrationProvider = { getMigrations: async () => ({ ...REGISTRY_MIGRATIONS }) }

/** Applies every pending migration; returns the names applied by this call, throws naming the one that failed. */
export async function migrateToLatest (db: Kysely<RegistrySchema>, provider: MigrationProvider = registryMigrations): Promise<string[]> {
  const migrator = new Migrator({ db, provider })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')
    const reason = error instanceof Error ? error.message : String(error)
    throw new Error(failed === undefined
      ? `database migration failed: ${reason}`
      : `database migration ${failed.migrationName} failed: ${reason}`, { cause: error })
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName)
}

/** The names of the migrations `provider` has that the database has not applied yet, in order. */
export async function pendingMigrations (db: Kysely<RegistrySchema>, provider: MigrationProvider = registryMigrations): Promise<string[]> {
  const migrations = await new Migrator({ db, provider }).getMigrations()
  return migrations.filter((migration) => migration.executedAt === undefined).map((migration) => migration.name)
}

/**
 * Migrates `database` to the latest schema the safe way: for a SQLite file that already holds tables, first a copy
 * `<file>.pre-<first pending migration>.bak` (VACUUM INTO: a consistent copy even while other processes use the
 * file), then every pending migration in one transaction. Returns the names applied and the copy made, if any.
 */
export async function migrateDatabase (
  database: RegistryDatabase, provider: MigrationProvider = registryMigrations
): Promise<{ applied: string[], backup: string | null }> {
  const pending = await pendingMigrations(database.db, provider)
  let backup: string | null = null
  if (pending.length > 0 && database.file !== null && await holdsTables(database.db)) {
    backup = `${database.file}.pre-${pending[0]!}.bak`
    // a copy left by an earlier attempt at the same migration is of the same schema, possibly older data
    await rm(backup, { force: true })
    await sql`vacuum into ${backup}`.execute(database.db)
  }
  return { applied: await migrateToLatest(database.db, provider), backup }
}

async function holdsTables (db: Kysely<RegistrySchema>): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`select count(*) as n from sqlite_master
    where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'`.execute(db)
  return Number(rows[0]?.n ?? 0) > 0
}

/** A trivial query proving the database answers (for readiness checks). */
export async function pingDatabase (db: Kysely<RegistrySchema>): Promise<void> {
  await sql`select 1`.execute(db)
}

/** True when `error` is a unique or primary-key violation on either dialect. */
export function isUniqueViolation (error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE'
}
