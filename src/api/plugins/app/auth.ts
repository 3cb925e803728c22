import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { roleAllows, TokenStore } from '../../../registry/tokens.js'
import type { Role } from '../../../registry/model.js'
import { ApiError } from '../../errors.js'

export interface Actor { name: string, role: Role }

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenStore
  }
  interface FastifyRequest {
    /** who sent the request (the token's name and role); set on every route that declares a role */
    actor: Actor | null
  }
  interface FastifyContextConfig {
    /** the lowest role allowed on this route; every /v1 route must declare one */
    role?: Role
  }
}

/** The name the bootstrapped admin token carries (the actor in history for moves made with it). */
export const ADMIN_TOKEN_NAME = 'admin'
/** The admin token file in the data directory: the token and a newline, readable by its owner only. */
export const ADMIN_TOKEN_FILE = 'admin-token'

/**
 * Bearer tokens with nested roles. A route states the lowest role it allows in `config.role`; this plugin checks
 * the token before the body is read (so a large upload with a bad token is refused at once), records who sent it as
 * `request.actor`, and marks the route as secured in the OpenAPI document. At start-up it bootstraps the admin
 * token: MODELPIN_ADMIN_TOKEN if set, else the one already in `<data dir>/admin-token`, else a new one; either way it
 * is made valid in the database and written to the file, so it survives restarts and database resets.
 */
export default fp(async function authPlugin (fastify) {
  const tokens = new TokenStore(fastify.database.db)
  fastify.decorate('tokens', tokens)
  fastify.decorateRequest('actor', null)

  const file = join(fastify.config.dataDir, ADMIN_TOKEN_FILE)
  const token = await bootstrapAdminToken(tokens, fastify.config.adminToken, file)
  fastify.log.info({ file, source: token.source }, 'admin token ready')

  fastify.addHook('onRoute', (route) => {
    const role = route.config?.role
    if (role === undefined) {
      // fail closed: a /v1 route that forgot its role would otherwise be open to anyone
      if (route.url.startsWith('/v1/')) throw new Error(`route ${route.method} ${route.url} declares no role`)
      return
    }
    route.schema = {
      ...route.schema,
      security: [{ bearerAuth: [] }],
      description: [route.schema?.description, `Needs the ${role} role.`].filter(Boolean).join(' '),
    }
  })

  fastify.addHook('onRequest', async (request) => {
    const need = request.routeOptions.config.role
    if (need === undefined) return
    const match = /^Bearer +(\S+) *$/i.exec(request.headers.authorization ?? '')
    if (match?.[1] === undefined) {
      throw new ApiError('unauthorized', 'this route needs a token: send "Authorization: Bearer <token>"')
    }
    const actor = await tokens.verify(match[1])
    if (actor === null) throw new ApiError('unauthorized', 'the bearer token is not known')
    if (!roleAllows(actor.role, need)) {
      throw new ApiError('forbidden', `this route needs the ${need} role; token "${actor.name}" has the ${actor.role} role`)
    }
    request.actor = actor
  })
}, { name: 'auth', dependencies: ['config', 'database'] })

/** The name of whoever sent `request`, for the history (routes with a role always have one). */
export function actorOf (request: FastifyRequest): string {
  if (request.actor === null) throw new ApiError('unauthorized', 'this route needs a token')
  return request.actor.name
}

async function bootstrapAdminToken (
  tokens: TokenStore, configured: string | undefined, file: string
): Promise<{ token: string, source: 'environment' | 'file' | 'generated' }> {
  let source: 'environment' | 'file' | 'generated' = 'environment'
  let token = configured
  if (token === undefined) {
    token = await readTokenFile(file)
    source = 'file'
  }
  if (token === undefined) {
    token = (await tokens.mint(ADMIN_TOKEN_NAME, 'admin')).token
    source = 'generated'
  } else {
    try {
      await tokens.ensure(ADMIN_TOKEN_NAME, 'admin', token)
    } catch (error) {
      const where = source === 'file' ? file : 'MODELPIN_ADMIN_TOKEN'
      throw new Error(`${where} does not hold a usable admin token: ${(error as Error).message}`, { cause: error })
    }
  }
  await writeTokenFile(file, token)
  return { token, source }
}

async function readTokenFile (file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim()
    return text === '' ? undefined : text
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Written through a temporary file and a rename, so a reader never sees half a token. */
async function writeTokenFile (file: string, token: string): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true })
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, `${token}\n`, { mode: 0o600 })
  // the mode of writeFile only applies to a new file; a stale temporary one may have another
  await chmod(temporary, 0o600)
  await rename(temporary, file)
}
