import fp from 'fastify-plugin'
import { componentLogger } from '../../logging.js'
import { migrateDatabase, openDatabase, pendingMigrations, type RegistryDatabase } from '../../../registry/db.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: RegistryDatabase
  }
}

/**
 * Opens the registry database and, unless MODELPIN_AUTO_MIGRATE=false, applies pending migrations before the API
 * serves (a SQLite file is copied first; see migrateDatabase). With it off, a pending migration stops the start:
 * serving an old schema would fail request by request instead.
 */
export default fp(async function databasePlugin (fastify) {
  const { config } = fastify
  const database = await openDatabase(config.databaseUrl, {
    logger: componentLogger(fastify, 'database'),
    pgConnectTimeoutMs: config.pgConnectTimeoutMs,
    pgStatementTimeoutMs: config.pgStatementTimeoutMs,
  })
  try {
    if (config.autoMigrate) {
      const { applied, backup } = await migrateDatabase(database)
      if (applied.length > 0) fastify.log.info({ migrations: applied, dialect: database.dialect, backup }, 'database migrated')
    } else {
      const pending = await pendingMigrations(database.db)
      if (pending.length > 0) {
        throw new Error(`the ${database.dialect} database has ${pending.length} pending migration(s) (${pending.join(', ')}) and MODELPIN_AUTO_MIGRATE is false: run \`npm run db:migrate\` with the same DATABASE_URL, then start again`)
      }
    }
  } catch (error) {
    await database.close()
    throw error
  }
  fastify.decorate('database', database)
  fastify.addHook('onClose', async () => { await database.close() })
}, { name: 'database', dependencies: ['config'] })
