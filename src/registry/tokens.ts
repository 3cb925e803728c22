import { createHash, randomBytes } from 'node:crypto'
import { PostgresAdapter, sql, type Kysely } from 'kysely'
import { MAX_TOKEN_EXPIRES_IN_DAYS, MIN_TOKEN_EXPIRES_IN_DAYS } from '../contract/limits.js'
import type { RegistrySchema } from './db.js'
import { BootstrapTokenError, InvalidInputError, TokenNameTakenError, TokenNotFoundError } from './errors.js'
import { ROLES, type Role } from './model.js'

/** Minted tokens start with this, so a leaked one is recognisable (e.g. by secret scanners). */
const TOKEN_PREFIX = 'mp_'
/** 32 random bytes: far beyond guessing, and a single sha256 is then a safe way to store it. */
const TOKEN_BYTES = 32
const NAME_PATTERN = /^[\w.@:-]{1,100}$/
/** `last_used_at` is a hint for whoever audits tokens, not a log: one write a minute per token keeps reads cheap. */
export const LAST_USED_RESOLUTION_MS = 60_000
const DAY_MS = 86_400_000

/** What `GET /v1/tokens` shows of a token: never its secret nor its hash. */
export interface TokenInfo {
  id: string
  name: string
  role: Role
  createdAt: string
  expiresAt: string | null
  lastUsedAt: string | null
  revokedAt: string | null
}

export interface MintedToken { id: string, name: string, role: Role, token: string, expiresAt: string | null }

/** What a presented token turns out to be: its holder, or why it is refused. */
export type TokenCheck =
  | { status: 'valid', id: string, name: string, role: Role, expiresAt: string | null }
  | { status: 'unknown' | 'revoked' | 'expired' }

/**
 * API tokens: only their sha256 is stored, so the database never holds a usable token. Every check reads the
 * database (one indexed row), so a revocation is seen by every process at its next request; there is no cache.
 */
export class TokenStore {
  constructor (
    private readonly db: Kysely<RegistrySchema>,
    private readonly now: () => Date = () => new Date()
  ) {}

  /**
   * Mints a new random token for `name` with `role`, valid for `expiresInDays` days (or until revoked); the token
   * itself is returned once and never stored. TokenNameTakenError when an active token already has that name.
   */
  async mint (name: string, role: Role, options: { expiresInDays?: number | undefined } = {}): Promise<MintedToken> {
    checkName(name)
    checkRole(role)
    const days = options.expiresInDays
    if (days !== undefined && (!Number.isInteger(days) || days < MIN_TOKEN_EXPIRES_IN_DAYS || days > MAX_TOKEN_EXPIRES_IN_DAYS)) {
      throw new InvalidInputError(`expiresInDays must be a whole number from ${MIN_TOKEN_EXPIRES_IN_DAYS} to ${MAX_TOKEN_EXPIRES_IN_DAYS}`)
    }
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url')
    const now = this.now()
    const expiresAt = days === undefined ? null : new Date(now.getTime() + days * DAY_MS).toISOString()
    const id = newTokenId()
    await this.db.transaction().execute(async (trx) => {
      await lockTokens(trx)
      if (await activeWithName(trx, name, now) !== undefined) {
        throw new TokenNameTakenError(`an active token is already named "${name}": revoke it first or choose another name`)
      }
      await trx.insertInto('api_tokens')
        .values({ token_sha256: tokenHash(token), id, name, role, created_at: now.toISOString(), expires_at: expiresAt })
        .execute()
    })
    return { id, name, role, token, expiresAt }
  }

  /**
   * What `token` is: its holder when it is active, else why not. Records the use (at most once a minute a token,
   * and only by the first process to see the minute pass).
   */
  async check (token: string): Promise<TokenCheck> {
    if (typeof token !== 'string' || token === '') return { status: 'unknown' }
    const hash = tokenHash(token)
    const row = await this.db.selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'expires_at', 'revoked_at', 'last_used_at'])
      .where('token_sha256', '=', hash).executeTakeFirst()
    if (row === undefined || !isRole(row.role) || row.id === null) return { status: 'unknown' }
    if (row.revoked_at !== null) return { status: 'revoked' }
    const now = this.now()
    if (row.expires_at !== null && row.expires_at <= now.toISOString()) return { status: 'expired' }
    const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS).toISOString()
    if (row.last_used_at === null || row.last_used_at <= stale) {
      await this.db.updateTable('api_tokens').set({ last_used_at: now.toISOString() })
        .where('token_sha256', '=', hash)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', stale)]))
        .execute()
    }
    return { status: 'valid', id: row.id, name: row.name, role: row.role, expiresAt: row.expires_at }
  }

  /** The name and role of `token` while it is active, or null. */
  async verify (token: string): Promise<{ name: string, role: Role } | null> {
    const checked = await this.check(token)
    return checked.status === 'valid' ? { name: checked.name, role: checked.role } : null
  }

  /** Every token, oldest first, revoked and expired ones included; never a secret. */
  async list (): Promise<TokenInfo[]> {
    const rows = await this.db.selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'created_at', 'expires_at', 'last_used_at', 'revoked_at'])
      .where('id', 'is not', null)
      .orderBy('created_at').orderBy('id').execute()
    return rows.filter((row) => isRole(row.role)).map((row) => ({
      id: row.id!,
      name: row.name,
      role: row.role as Role,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastUsedAt: row.last_used_at,
      revokedAt: row.revoked_at,
    }))
  }

  /**
   * Revokes the token `id` (a revoked one stays revoked: nothing changes). TokenNotFoundError for an unknown id,
   * BootstrapTokenError for the current bootstrap token, which is rotated by restarting with a new one.
   */
  async revoke (id: string): Promise<void> {
    const row = await this.db.selectFrom('api_tokens').select(['bootstrap', 'revoked_at'])
      .where('id', '=', id).executeTakeFirst()
    if (row === undefined) throw new TokenNotFoundError(`no token has the id "${id}"`)
    if (row.revoked_at !== null) return
    if (Number(row.bootstrap) === 1) {
      throw new BootstrapTokenError('this is the current bootstrap admin token: rotate it by restarting the API with a new MODELPIN_ADMIN_TOKEN (or token file), which revokes this one')
    }
    await this.db.updateTable('api_tokens').set({ revoked_at: this.now().toISOString() })
      .where('id', '=', id).where('revoked_at', 'is', null).execute()
  }

  /**
   * Makes `token` the bootstrap admin token, named `name`: a token the registry has never seen as one is recorded
   * and every earlier bootstrap token is revoked, in one transaction. A revoked (or expired) token is refused.
   */
  async bootstrap (name: string, token: string): Promise<{ rotated: number }> {
    checkName(name)
    if (typeof token !== 'string' || token.length < 16) {
      throw new InvalidInputError('token must be at least 16 characters long')
    }
    const hash = tokenHash(token)
    return await this.db.transaction().execute(async (trx) => {
      await lockTokens(trx)
      const now = this.now().toISOString()
      const row = await trx.selectFrom('api_tokens').select(['id', 'bootstrap', 'revoked_at', 'expires_at'])
        .where('token_sha256', '=', hash).executeTakeFirst()
      if (row?.revoked_at != null) {
        throw new InvalidInputError(`it was revoked at ${row.revoked_at} (a newer bootstrap token replaced it, or an admin revoked it): start with the current admin token, or a new one`)
      }
      if (row?.expires_at != null && row.expires_at <= now) {
        throw new InvalidInputError(`it expired at ${row.expires_at}: start with a new admin token`)
      }
      if (row !== undefined && Number(row.bootstrap) === 1) return { rotated: 0 }
      if (row === undefined) {
        await trx.insertInto('api_tokens')
          .values({ token_sha256: hash, id: newTokenId(), name, role: 'admin', created_at: now, bootstrap: 1 })
          .execute()
      } else {
        await trx.updateTable('api_tokens').set({ name, role: 'admin', bootstrap: 1, id: row.id ?? newTokenId() })
          .where('token_sha256', '=', hash).execute()
      }
      const revoked = await trx.updateTable('api_tokens').set({ revoked_at: now })
        .where('bootstrap', '=', 1).where('revoked_at', 'is', null).where('token_sha256', '!=', hash)
        .executeTakeFirst()
      return { rotated: Number(revoked.numUpdatedRows) }
    })
  }

  /** Bootstraps a freshly generated admin token named `name`; answers the token. */
  async bootstrapNew (name: string): Promise<string> {
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url')
    await this.bootstrap(name, token)
    return token
  }
}

/** Roles nest (viewer < promoter < admin): true when a holder of `have` may do what needs `need`. */
export function roleAllows (have: Role, need: Role): boolean {
  const rank = ROLES.indexOf(have)
  return rank >= 0 && rank >= ROLES.indexOf(need)
}

/** True for the three role names. */
export function isRole (value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value)
}

/** A token's public handle: random, so it says nothing about the secret. */
function newTokenId (): string {
  return `tok_${randomBytes(9).toString('base64url')}`
}

/**
 * Serialises the writers that check names or rotate bootstrap tokens. PostgreSQL: a transaction-scoped advisory
 * lock (the key is arbitrary but fixed). SQLite: a write to the table turns the transaction into the one writer
 * at once, instead of at its insert, after another process may have checked the same name.
 */
async function lockTokens (trx: Kysely<RegistrySchema>): Promise<void> {
  if (trx.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(7206133)`.execute(trx)
  } else {
    await trx.updateTable('api_tokens').set({ bootstrap: sql`bootstrap` }).where(sql<boolean>`1 = 0`).execute()
  }
}

async function activeWithName (trx: Kysely<RegistrySchema>, name: string, now: Date): Promise<{ id: string | null } | undefined> {
  return await trx.selectFrom('api_tokens').select(['id'])
    .where('name', '=', name).where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now.toISOString())]))
    .executeTakeFirst()
}

function tokenHash (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}

function checkName (name: string): void {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidInputError('name must be 1 to 100 letters, digits or . _ - @ :')
  }
}

function checkRole (role: Role): void {
  if (!isRole(role)) throw new InvalidInputError(`role must be one of ${ROLES.join(', ')}`)
}
