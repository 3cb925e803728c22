import fp from 'fastify-plugin'
import { componentLogger } from '../../logging.js'
import { migrateToLatest, openDatabase, type RegistryDatabase } from '../../../registry/db.js'

declare module 'fastify' {
  interface FastifyInstance {
    database: RegistryDatabase
  }
}

/** Opens the registry database, applies pending migrations before the API serves, and closes it with the app. */
export default fp(async function databasePlugin (fastify) {
  const database = await openDatabase(fastify.config.databaseUrl, { logger: componentLogger(fastify, 'database') })
  try {
    const applied = await migrateToLatest(database.db)
    if (applied.length > 0) fastify.log.info({ migrations: applied, dialect: database.dialect }, 'database migrated')
  } catch (error) {
    await database.close()
    throw error
  }
  fastify.decorate('database', database)
  fastify.addHook('onClose', async () => { await database.close() })
}, { name: 'database', dependencies: ['config'] })
