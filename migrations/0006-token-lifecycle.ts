import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'

/**
 * Tokens get a lifecycle: a public `id` (what `GET /v1/tokens` lists and `DELETE /v1/tokens/{id}` names; never the
 * secret), an optional `expires_at`, `last_used_at` (written at most once a minute), `revoked_at`, and `bootstrap`
 * (1 for the admin token a process started with; a new one revokes the earlier ones). Tokens minted before get a
 * random id; the ones named `admin` with the admin role are the bootstrap tokens earlier versions recorded, so a
 * rotation revokes them too. Names stay as they are: duplicates from before are kept (the uniqueness of active names
 * is checked when a token is minted).
 */
export async function up (db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_tokens').addColumn('id', 'text').execute()
  await db.schema.alterTable('api_tokens').addColumn('expires_at', 'text').execute()
  await db.schema.alterTable('api_tokens').addColumn('last_used_at', 'text').execute()
  await db.schema.alterTable('api_tokens').addColumn('revoked_at', 'text').execute()
  await db.schema.alterTable('api_tokens').addColumn('bootstrap', 'integer', (c) => c.notNull().defaultTo(0)).execute()
  const rows = await db.selectFrom('api_tokens').select(['token_sha256']).execute() as Array<{ token_sha256: string }>
  for (const row of rows) {
    await db.updateTable('api_tokens').set({ id: newTokenId() }).where('token_sha256', '=', row.token_sha256).execute()
  }
  await db.updateTable('api_tokens').set({ bootstrap: 1 }).where('name', '=', 'admin').where('role', '=', 'admin').execute()
  await db.schema.createIndex('api_tokens_id').on('api_tokens').column('id').unique().execute()
  await db.schema.createIndex('api_tokens_name').on('api_tokens').column('name').execute()
}

export async function down (db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('api_tokens_name').execute()
  await db.schema.dropIndex('api_tokens_id').execute()
  for (const column of ['bootstrap', 'revoked_at', 'last_used_at', 'expires_at', 'id']) {
    await db.schema.alterTable('api_tokens').dropColumn(column).execute()
  }
}

/** The same shape as TokenStore's ids (src/registry/tokens.ts); repeated so the migration never changes with it. */
function newTokenId (): string {
  return `tok_${randomBytes(9).toString('base64url')}`
}
