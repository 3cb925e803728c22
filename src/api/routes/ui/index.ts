import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { ApiError } from '../../errors.js'

/**
 * The policy the console is built for: everything from this origin, nothing inline, no eval. Set on the console's
 * own answers so it holds even where no proxy adds one.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
}

// What Vite writes into dist/console/assets: hashed names of these kinds, nothing else is served
const ASSET_NAME = /^[\w-]+\.(?:js|css|svg|png|woff2)$/

/**
 * The web console (console/, built into dist/console by `npm run build`) at /ui/. A dozen static files need no
 * static-file plugin: the routes below serve index.html and the hashed assets only, so no path can leave the folder.
 * The page needs no token; its calls to /v1 send the one the user signs in with.
 */
const uiRoutes: FastifyPluginAsync = async (fastify) => {
  const dir = consoleDir()

  const send = async (reply: FastifyReply, file: string, cache: string): Promise<FastifyReply> => {
    let body: Buffer
    try {
      body = await readFile(join(dir, file))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      throw new ApiError('not_found', file === 'index.html'
        ? 'the web console is not built: run `npm run build` (or `node scripts/build-console.mjs`)'
        : `the web console has no file ${file}`)
    }
    return reply
      .header('content-type', CONTENT_TYPES[extname(file)] ?? 'application/octet-stream')
      .header('content-security-policy', CONSOLE_CONTENT_SECURITY_POLICY)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', cache)
      .send(body)
  }

  // relative, so a proxy that mounts the API under a path prefix keeps it
  fastify.get('/ui', { schema: { hide: true } }, async (_request, reply) => await reply.redirect('ui/', 308))
  fastify.get('/ui/', { schema: { hide: true } }, async (_request, reply) => await send(reply, 'index.html', 'no-cache'))
  fastify.get<{ Params: { file: string } }>('/ui/assets/:file', { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params
    if (!ASSET_NAME.test(file)) throw new ApiError('not_found', `the web console has no file ${file}`)
    // hashed names: a new build is a new name
    return await send(reply, join('assets', file), 'public, max-age=31536000, immutable')
  })
}

/** dist/console of the checkout: found from this file whether it runs from src/ (tsx) or dist/src/ (the build). */
function consoleDir (): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('the admin API runs outside a modelpin checkout: no package.json above it')
    dir = parent
  }
  // dist/src/api/... has no package.json of its own: the loop stops at the checkout either way
  return join(dir, 'dist', 'console')
}

export default uiRoutes
