import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { roleAllows, TokenStore } from '../../../registry/tokens.js'
import type { Role } from '../../../registry/model.js'
import { AuthFailures } from '../../auth-failures.js'
import { ApiError } from '../../errors.js'

export interface Actor {
  /** the token's id (`GET /v1/tokens`) */
  id: string
  name: string
  role: Role
  expiresAt: string | null
}

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
 * `request.actor`, and marks the route as secured in the OpenAPI document. Every check reads the database, so a
 * revocation holds on every replica from its next request. Failed authentications are counted per client address:
 * past MODELPIN_AUTH_FAILURES_PER_MINUTE, a failure gets 429 (a valid token is checked first, so it is still served).
 * At start-up it bootstraps the admin token: MODELPIN_ADMIN_TOKEN if set, else the one already in
 * `<data dir>/admin-token`, else a new one; a token the registry has not seen as the bootstrap token revokes the
 * earlier ones, a revoked one stops the start. It is written to the file, so it survives restarts.
 */
export default fp(async function authPlugin (fastify) {
  const tokens = new TokenStore(fastify.database.db)
  fastify.decorate('tokens', tokens)
  fastify.decorateRequest('actor', null)
  const failures = new AuthFailures(fastify.config.authFailuresPerMinute)

  const file = join(fastify.config.dataDir, ADMIN_TOKEN_FILE)
  const token = await bootstrapAdminToken(tokens, fastify.config.adminToken, file)
  fastify.log.info({ file, source: token.source, revokedEarlier: token.rotated }, 'admin token ready')

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
    const header = request.headers.authorization
    const match = /^Bearer +(\S+) *$/i.exec(typeof header === 'string' ? header : '')
    const checked = match?.[1] === undefined ? { status: 'missing' as const } : await tokens.check(match[1])
    if (checked.status !== 'valid') {
      const retryAfterSeconds = failures.fail(request.ip, Date.now())
      if (retryAfterSeconds !== null) {
        throw new ApiError('rate_limited', `too many failed authentications from ${request.ip}: try again in ${retryAfterSeconds} s`, { retryAfterSeconds })
      }
      switch (checked.status) {
        case 'missing': throw new ApiError('unauthorized', 'this route needs a token: send "Authorization: Bearer <token>"')
        case 'expired': throw new ApiError('token_expired', 'the bearer token has expired: ask an admin for a new one')
        default: throw new ApiError('unauthorized', 'the bearer token is not known or was revoked')
      }
    }
    const actor: Actor = { id: checked.id, name: checked.name, role: checked.role, expiresAt: checked.expiresAt }
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
): Promise<{ token: string, source: 'environment' | 'file' | 'generated', rotated: number }> {
  let source: 'environment' | 'file' | 'generated' = 'environment'
  let token = configured
  if (token === undefined) {
    token = await readTokenFile(file)
    source = 'file'
  }
  let rotated = 0
  if (token === undefined) {
    token = await tokens.bootstrapNew(ADMIN_TOKEN_NAME)
    source = 'generated'
  } else {
    try {
      rotated = (await tokens.bootstrap(ADMIN_TOKEN_NAME, token)).rotated
    } catch (error) {
      const where = source === 'file' ? file : 'MODELPIN_ADMIN_TOKEN'
      throw new Error(`${where} does not hold a usable admin token: ${(error as Error).message}`, { cause: error })
    }
  }
  await writeTokenFile(file, token)
  return { token, source, rotated }
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
