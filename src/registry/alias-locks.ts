import { randomUUID } from 'node:crypto'
import type { Kysely, Selectable } from 'kysely'
import { isUniqueViolation, type AliasesTable, type RegistrySchema } from './db.js'
import { AliasBusyError, AliasNotFoundError, RevisionMismatchError } from './errors.js'

/** How long a move may hold its alias; a lock past its expiry (a crashed process) is free for the next move. */
export const DEFAULT_LOCK_TTL_MS = 5 * 60 * 1000

export type AliasRow = Selectable<AliasesTable>

/** The right to move one alias, held by exactly one move at a time. */
export interface AliasLock {
  model: string
  alias: string
  token: string
  /** the alias as it was when the lock was taken (nothing else can change it while the lock is held) */
  row: AliasRow
}

/**
 * The in-flight lock of an alias, taken by one conditional UPDATE so it behaves the same on SQLite and PostgreSQL
 * and across API replicas: the lock is set only when no unexpired lock is held and, with If-Match, only when the
 * revision matches. Every alias move goes through `claim`.
 */
export class AliasLocks {
  readonly #db: Kysely<RegistrySchema>
  readonly #ttlMs: number
  readonly #now: () => Date

  constructor (db: Kysely<RegistrySchema>, options: { ttlMs?: number | undefined, now?: (() => Date) | undefined } = {}) {
    this.#db = db
    this.#ttlMs = options.ttlMs ?? DEFAULT_LOCK_TTL_MS
    this.#now = options.now ?? (() => new Date())
  }

  /**
   * Takes the lock of `alias`. Fails with RevisionMismatchError when `ifMatch` is given and the revision differs or
   * another move holds the lock (the winner will bump the revision), with AliasBusyError when another move holds it
   * and no `ifMatch` was given, and with AliasNotFoundError when the alias does not exist and `create` is false.
   * With `create`, a missing alias is inserted locked at revision 0 with no release (its first move makes it 1).
   */
  async claim (model: string, alias: string, options: { ifMatch?: number | undefined, create?: boolean } = {}): Promise<AliasLock> {
    const { ifMatch, create = false } = options
    for (let attempt = 0; ; attempt++) {
      const now = this.#now()
      const token = randomUUID()
      const expires = new Date(now.getTime() + this.#ttlMs).toISOString()
      let update = this.#db.updateTable('aliases')
        .set({ lock_token: token, lock_expires_at: expires })
        .where('model', '=', model)
        .where('name', '=', alias)
        .where((eb) => eb.or([eb('lock_token', 'is', null), eb('lock_expires_at', '<', now.toISOString())]))
      if (ifMatch !== undefined) update = update.where('revision', '=', ifMatch)
      const claimed = await update.executeTakeFirst()
      if (Number(claimed.numUpdatedRows) === 1) {
        return { model, alias, token, row: await this.#row(model, alias) as AliasRow }
      }

      const row = await this.#row(model, alias)
      if (row !== undefined) {
        if (ifMatch === undefined) throw new AliasBusyError(`another move of alias ${alias} is in flight; retry when it is done`)
        throw new RevisionMismatchError(row.revision === ifMatch
          ? `alias ${alias} is being moved by another request; its revision ${ifMatch} is about to change`
          : `alias ${alias} is at revision ${row.revision}, not ${ifMatch}`)
      }
      if (!create) throw new AliasNotFoundError(`model ${model} has no alias ${alias}`)
      if (ifMatch !== undefined) throw new RevisionMismatchError(`alias ${alias} does not exist yet, so no revision can match ${ifMatch}`)
      const row0: AliasRow = {
        model,
        name: alias,
        release: null,
        revision: 0,
        updated_at: now.toISOString(),
        function_version: null,
        canary_release: null,
        canary_weight: null,
        canary_function_version: null,
        lock_token: token,
        lock_expires_at: expires,
      }
      try {
        // the primary key makes this race-safe: of two first moves, one inserts and the other sees the row
        await this.#db.insertInto('aliases').values(row0).execute()
        return { model, alias, token, row: row0 }
      } catch (error) {
        if (!isUniqueViolation(error) || attempt > 0) throw error
      }
    }
  }

  /** Gives the lock back without moving the alias (nothing else in the row changes). */
  async release (lock: AliasLock, db: Kysely<RegistrySchema> = this.#db): Promise<void> {
    await db.updateTable('aliases')
      .set({ lock_token: null, lock_expires_at: null })
      .where('model', '=', lock.model)
      .where('name', '=', lock.alias)
      .where('lock_token', '=', lock.token)
      .execute()
  }

  /** Frees every lock whose expiry has passed (left by a process that stopped mid-move); returns how many. */
  async clearExpired (): Promise<number> {
    const result = await this.#db.updateTable('aliases')
      .set({ lock_token: null, lock_expires_at: null })
      .where('lock_token', 'is not', null)
      .where('lock_expires_at', '<', this.#now().toISOString())
      .executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  /**
   * Frees every lock, expired or not. Only for a database no other process moves aliases in (SQLite, at start-up):
   * there a lock can only have been left by a process that stopped mid-move.
   */
  async clearAll (): Promise<number> {
    const result = await this.#db.updateTable('aliases')
      .set({ lock_token: null, lock_expires_at: null })
      .where('lock_token', 'is not', null)
      .executeTakeFirst()
    return Number(result.numUpdatedRows)
  }

  async #row (model: string, alias: string): Promise<AliasRow | undefined> {
    return await this.#db.selectFrom('aliases').selectAll().where('model', '=', model).where('name', '=', alias).executeTakeFirst()
  }
}
