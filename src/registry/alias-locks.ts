import { randomUUID } from 'node:crypto'
import { hostname } from 'node:os'
import type { Kysely, RawBuilder, Selectable } from 'kysely'
import { databaseNow, databaseNowPlus } from './database-clock.js'
import { isUniqueViolation, type AliasesTable, type RegistrySchema } from './db.js'
import { AliasBusyError, AliasNotFoundError, RevisionMismatchError } from './errors.js'
import type { AliasState } from './move-plan.js'
import type { HistoryDraft } from './rows.js'

/** How long a lock lives unrenewed before another process may take it over (`MODELPIN_LOCK_TTL_SECONDS`). */
export const DEFAULT_LOCK_TTL_MS = 30 * 1000

export type AliasRow = Selectable<AliasesTable>

/** The Lambda versions an alias serves after a move (null for a registry-only alias). */
export interface ServedVersions { main: string | null, canary: string | null }

/** What a move holding a lock intends, recorded so that whoever takes the lock over can settle it. */
export interface IntendedMove {
  entry: HistoryDraft
  state: AliasState
  /** the Lambda versions the move routes; null until they are published (before that, Lambda cannot serve it) */
  versions: ServedVersions | null
}

/** The right to move one alias, held by exactly one move at a time. */
export interface AliasLock {
  model: string
  alias: string
  token: string
  /** the alias as it was when the lock was taken (nothing else can change it while the lock is held) */
  row: AliasRow
  /** set when the lock was taken over from a holder that stopped renewing it: who that was and what it intended */
  takenOver: { owner: string | null, intent: IntendedMove | null } | null
}

/** This process, as lock rows name their owner. */
export const LOCK_OWNER = `${hostname()}:${process.pid}`

const NO_INTENT = {
  intent_action: null,
  intent_actor: null,
  intent_reason: null,
  intent_from_release: null,
  intent_to_release: null,
  intent_plan: null,
} as const
const FREE = { lock_token: null, lock_expires_at: null, lock_owner: null, ...NO_INTENT } as const

/** The columns that free a lock and forget its intended move. */
export function freeLockColumns (): typeof FREE {
  return FREE
}

/** The columns that forget a lock's intended move and keep the lock. */
export function noIntentColumns (): typeof NO_INTENT {
  return NO_INTENT
}

/**
 * The in-flight lock of an alias, taken by one conditional UPDATE so it behaves the same on SQLite and PostgreSQL
 * and across API replicas. Expiry is written and judged by the database's clock, never a process's: a replica whose
 * clock is off can neither steal a live lock nor keep a dead one. The holder renews it (see `heartbeat`); a lock
 * not renewed for the TTL is taken over by the next claim, which learns what the previous holder intended.
 */
export class AliasLocks {
  readonly #db: Kysely<RegistrySchema>
  readonly #ttlMs: number
  readonly #owner: string

  constructor (db: Kysely<RegistrySchema>, options: { ttlMs?: number | undefined, owner?: string | undefined } = {}) {
    this.#db = db
    this.#ttlMs = options.ttlMs ?? DEFAULT_LOCK_TTL_MS
    this.#owner = options.owner ?? LOCK_OWNER
  }

  get ttlMs (): number {
    return this.#ttlMs
  }

  /**
   * Takes the lock of `alias`. Fails with RevisionMismatchError when `ifMatch` is given and the revision differs or
   * another move holds the lock (the winner will bump the revision), with AliasBusyError when another move holds it
   * and no `ifMatch` was given, and with AliasNotFoundError when the alias does not exist and `create` is false.
   * With `create`, a missing alias is inserted locked at revision 0 with no release (its first move makes it 1).
   * `anyHolder` takes over even a lock that has not expired (a sole process at start-up: its holder is dead).
   */
  async claim (model: string, alias: string, options: { ifMatch?: number | undefined, create?: boolean, anyHolder?: boolean } = {}): Promise<AliasLock> {
    const { ifMatch, create = false } = options
    for (let attempt = 0; ; attempt++) {
      const token = randomUUID()
      const seen = await this.#row(model, alias)
      if (seen !== undefined) {
        let update = this.#db.updateTable('aliases')
          .set({ lock_token: token, lock_expires_at: this.#expiry(), lock_owner: this.#owner })
          .where('model', '=', model)
          .where('name', '=', alias)
        // compare-and-set on the token seen, so a take-over knows whose lock (and intent) it took
        update = seen.lock_token === null
          ? update.where('lock_token', 'is', null)
          : update.where('lock_token', '=', seen.lock_token)
        if (seen.lock_token !== null && options.anyHolder !== true) update = update.where('lock_expires_at', '<', this.#now())
        if (ifMatch !== undefined) update = update.where('revision', '=', ifMatch)
        const claimed = await update.executeTakeFirst()
        if (Number(claimed.numUpdatedRows) === 1) {
          const row = await this.#row(model, alias) as AliasRow
          const takenOver = seen.lock_token === null ? null : { owner: seen.lock_owner, intent: intentOf(row) }
          return { model, alias, token, row, takenOver }
        }
        const now = await this.#row(model, alias)
        if (now === undefined) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
        if (ifMatch !== undefined && now.revision !== ifMatch) {
          throw new RevisionMismatchError(`alias ${alias} is at revision ${now.revision}, not ${ifMatch}`)
        }
        // the lock changed hands between our read and our update: look once more before calling it busy
        if (now.lock_token !== seen.lock_token && attempt < 2) continue
        if (ifMatch === undefined) throw new AliasBusyError(`another move of alias ${alias} is in flight; retry when it is done`)
        throw new RevisionMismatchError(`alias ${alias} is being moved by another request; its revision ${ifMatch} is about to change`)
      }
      if (!create) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
      if (ifMatch !== undefined) throw new RevisionMismatchError(`alias ${alias} does not exist yet, so no revision can match ${ifMatch}`)
      try {
        // the primary key makes this race-safe: of two first moves, one inserts and the other sees the row
        await this.#db.insertInto('aliases').values({
          ...FREE,
          model,
          name: alias,
          release: null,
          revision: 0,
          updated_at: new Date().toISOString(),
          function_version: null,
          canary_release: null,
          canary_weight: null,
          canary_function_version: null,
          lock_token: token,
          lock_expires_at: this.#expiry(),
          lock_owner: this.#owner,
        }).execute()
        return { model, alias, token, row: await this.#row(model, alias) as AliasRow, takenOver: null }
      } catch (error) {
        if (!isUniqueViolation(error) || attempt > 0) throw error
      }
    }
  }

  /** Pushes the lock's expiry one TTL past the database's now; false when the lock is no longer ours. */
  async renew (lock: AliasLock): Promise<boolean> {
    const result = await this.#db.updateTable('aliases')
      .set({ lock_expires_at: this.#expiry() })
      .where('model', '=', lock.model).where('name', '=', lock.alias).where('lock_token', '=', lock.token)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /**
   * Renews `lock` every third of the TTL until `stop` is called. `lost` is called once when a renewal finds the lock
   * taken over. A failed renewal (database unreachable) is retried at the next beat.
   */
  heartbeat (lock: AliasLock, lost: () => void = () => {}): { stop: () => void } {
    let stopped = false
    const timer = setInterval(() => {
      this.renew(lock).then((held) => {
        if (!held && !stopped) {
          stopped = true
          clearInterval(timer)
          lost()
        }
      }, () => {})
    }, Math.max(1, Math.floor(this.#ttlMs / 3)))
    timer.unref()
    return { stop: () => { stopped = true; clearInterval(timer) } }
  }

  /** True while `lock` is ours and unexpired by the database's clock (a read: it never waits for a writer). */
  async held (lock: AliasLock): Promise<boolean> {
    const row = await this.#db.selectFrom('aliases').select('lock_token')
      .where('model', '=', lock.model).where('name', '=', lock.alias).where('lock_token', '=', lock.token)
      .where('lock_expires_at', '>=', this.#now())
      .executeTakeFirst()
    return row !== undefined
  }

  /** Records what the lock's move intends (again once its versions are known); false when the lock is no longer ours. */
  async recordIntent (lock: AliasLock, intent: IntendedMove): Promise<boolean> {
    const result = await this.#db.updateTable('aliases')
      .set({
        intent_action: intent.entry.action,
        intent_actor: intent.entry.actor,
        intent_reason: intent.entry.reason,
        intent_from_release: intent.entry.fromRelease,
        intent_to_release: intent.entry.toRelease,
        intent_plan: JSON.stringify({ detail: intent.entry.detail, state: intent.state, versions: intent.versions }),
      })
      .where('model', '=', lock.model).where('name', '=', lock.alias).where('lock_token', '=', lock.token)
      .executeTakeFirst()
    return Number(result.numUpdatedRows) === 1
  }

  /** Gives the lock back without moving the alias (nothing else in the row changes). */
  async release (lock: AliasLock, db: Kysely<RegistrySchema> = this.#db): Promise<void> {
    await db.updateTable('aliases')
      .set(FREE)
      .where('model', '=', lock.model)
      .where('name', '=', lock.alias)
      .where('lock_token', '=', lock.token)
      .execute()
  }

  /** The aliases whose lock has expired by the database's clock (or every locked alias, with `anyHolder`). */
  async abandoned (options: { anyHolder?: boolean } = {}): Promise<Array<{ model: string, alias: string }>> {
    let query = this.#db.selectFrom('aliases').select(['model', 'name']).where('lock_token', 'is not', null)
    if (options.anyHolder !== true) query = query.where('lock_expires_at', '<', this.#now())
    return (await query.execute()).map((row) => ({ model: row.model, alias: row.name }))
  }

  /** The database's now, in the ISO-8601 form every timestamp column holds. */
  #now (): RawBuilder<string> {
    return databaseNow(this.#db)
  }

  /** The database's now plus the TTL. */
  #expiry (): RawBuilder<string> {
    return databaseNowPlus(this.#db, this.#ttlMs)
  }

  async #row (model: string, alias: string): Promise<AliasRow | undefined> {
    return await this.#db.selectFrom('aliases').selectAll().where('model', '=', model).where('name', '=', alias).executeTakeFirst()
  }
}

/** The intended move recorded in an alias row, if any. */
function intentOf (row: AliasRow): IntendedMove | null {
  if (row.intent_action === null || row.intent_actor === null || row.intent_plan === null) return null
  const plan = JSON.parse(row.intent_plan) as { detail: string | null, state: AliasState, versions: ServedVersions | null }
  return {
    entry: {
      action: row.intent_action as HistoryDraft['action'],
      actor: row.intent_actor,
      reason: row.intent_reason,
      fromRelease: row.intent_from_release,
      toRelease: row.intent_to_release,
      detail: plan.detail,
    },
    state: plan.state,
    versions: plan.versions,
  }
}
