import { createHash } from 'node:crypto'
import t from 'tap'
import { migrateToLatest } from '../src/registry/db.js'
import { TokenStore } from '../src/registry/tokens.js'
import { DATABASE_KINDS, migrationsUpTo, openTestDatabase } from './helpers/registry.js'

for (const kind of DATABASE_KINDS) {
  t.test(`${kind}: tokens from before 0006 keep working, get ids, and the old admin token is rotated away`, async (t) => {
    const { db } = await openTestDatabase(t, kind, { migrate: false })
    await migrateToLatest(db, migrationsUpTo('0005-model-prewarm'))
    const tokens = new TokenStore(db)
    // what earlier versions wrote: the bootstrapped admin token and a minted one with the same name twice
    const hash = (token: string): string => createHash('sha256').update(token).digest('hex')
    await db.insertInto('api_tokens' as never).values([
      { token_sha256: hash('old-admin-token-0000'), name: 'admin', role: 'admin', created_at: '2025-01-01T00:00:00.000Z' },
      { token_sha256: hash('old-ci-token-000001'), name: 'ci', role: 'viewer', created_at: '2025-01-02T00:00:00.000Z' },
      { token_sha256: hash('old-ci-token-000002'), name: 'ci', role: 'promoter', created_at: '2025-01-03T00:00:00.000Z' },
    ] as never).execute()
    await migrateToLatest(db)

    const listed = await tokens.list()
    t.equal(listed.length, 3)
    t.equal(new Set(listed.map((token) => token.id)).size, 3, 'each gets its own id')
    for (const token of listed) t.match(token, { id: /^tok_/, expiresAt: null, lastUsedAt: null, revokedAt: null })
    t.same(await tokens.verify('old-ci-token-000001'), { name: 'ci', role: 'viewer' }, 'duplicate names from before are kept')
    t.same(await tokens.verify('old-ci-token-000002'), { name: 'ci', role: 'promoter' })
    t.same(await tokens.bootstrap('admin', 'the-new-bootstrap-token'), { rotated: 1 }, 'the old admin token counts as a bootstrap token')
    t.same(await tokens.check('old-admin-token-0000'), { status: 'revoked' })
  })
}
