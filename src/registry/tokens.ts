import { createHash, randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { RegistrySchema } from './db.js'
import { InvalidInputError } from './errors.js'
import { ROLES, type Role } from './model.js'

/** Minted tokens start with this, so a leaked one is recognisable (e.g. by secret scanners). */
const TOKEN_PREFIX = 'mp_'
/** 32 random bytes: far beyond guessing, and a single sha256 is then a safe way to store it. */
const TOKEN_BYTES = 32
const NAME_PATTERN = /^[\w.@:-]{1,100}$/

/** API tokens: only their sha256 is stored, so the database never holds a usable token. */
export class TokenStore {
  constructor (private readonly db: Kysely<RegistrySchema>) {}

  /** Mints a new random token for `name` with `role`; the token itself is returned once and never stored. */
  async mint (name: string, role: Role): Promise<{ name: string, role: Role, token: string }> {
    checkName(name)
    checkRole(role)
    const token = TOKEN_PREFIX + randomBytes(TOKEN_BYTES).toString('base64url')
    await this.db.insertInto('api_tokens')
      .values({ token_sha256: tokenHash(token), name, role, created_at: new Date().toISOString() })
      .execute()
    return { name, role, token }
  }

  /** The name and role of `token`, or null when it is unknown. */
  async verify (token: string): Promise<{ name: string, role: Role } | null> {
    if (typeof token !== 'string' || token === '') return null
    const row = await this.db.selectFrom('api_tokens').select(['name', 'role'])
      .where('token_sha256', '=', tokenHash(token)).executeTakeFirst()
    if (row === undefined || !isRole(row.role)) return null
    return { name: row.name, role: row.role }
  }

  /** Makes `token` valid as `name` with `role` (idempotent); how the admin token is bootstrapped at start-up. */
  async ensure (name: string, role: Role, token: string): Promise<void> {
    checkName(name)
    checkRole(role)
    if (typeof token !== 'string' || token.length < 16) {
      throw new InvalidInputError('token must be at least 16 characters long')
    }
    await this.db.insertInto('api_tokens')
      .values({ token_sha256: tokenHash(token), name, role, created_at: new Date().toISOString() })
      .onConflict((conflict) => conflict.column('token_sha256').doUpdateSet({ name, role }))
      .execute()
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
