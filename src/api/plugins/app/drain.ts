import fp from 'fastify-plugin'
import { ApiError } from '../../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Stops taking requests and waits (up to `limitMs`, DRAIN_LIMIT_MS by default) until the requests in flight,
     * moves included, are answered. Resolves with how many were still unanswered when it gave up (0 when all were).
     */
    drain: (limitMs?: number) => Promise<number>
  }
}

/**
 * How long a stopping API waits for requests in flight: Kubernetes' default termination grace period, after which
 * the process would be killed anyway. A move running longer is cut as a crash would cut it (its lock expires).
 */
export const DRAIN_LIMIT_MS = 30_000

/**
 * Graceful stop, before the app closes: the listener stops accepting connections, idle keep-alive connections are
 * closed, a request that still arrives on an open connection gets `503 shutting_down`, and the requests in flight
 * run to their answer. A move in flight therefore finishes (Lambda routed, history written, lock released) before
 * the database closes.
 */
export default fp(async function drainPlugin (fastify) {
  let draining = false
  let inFlight = 0
  let idle: (() => void) | undefined

  // the first onRequest hook (registered before auth): a draining process refuses before anything else runs
  fastify.addHook('onRequest', async (request, reply) => {
    if (draining) {
      reply.header('connection', 'close')
      throw new ApiError('shutting_down', 'the API is stopping: it finishes the requests in flight and takes no new ones; retry on another replica or once it is back')
    }
    inFlight++
    // 'close' comes once per response, whether it was sent in full or its connection was cut
    reply.raw.once('close', () => {
      inFlight--
      if (inFlight === 0) idle?.()
    })
  })

  fastify.decorate('drain', async (limitMs = DRAIN_LIMIT_MS): Promise<number> => {
    draining = true
    // Fastify closes the listener again in app.close(); a listener that is not running is fine there
    if (fastify.server.listening) fastify.server.close()
    fastify.server.closeIdleConnections()
    if (inFlight === 0) return 0
    fastify.log.info({ inFlight, limitMs }, 'draining: waiting for the requests in flight')
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>((resolve) => { idle = resolve }),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, limitMs) }),
    ])
    clearTimeout(timer)
    return inFlight
  })
}, { name: 'drain' })
