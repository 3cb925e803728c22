import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import { pingDatabase } from '../../../registry/db.js'

/** A readiness probe must answer quickly even when a dependency hangs (a wrong endpoint can drop packets). */
const CHECK_TIMEOUT_MS = 3000

const CheckSchema = Type.Union([Type.Literal('ok'), Type.Literal('failed')])

export const HealthSchema = Type.Object({ status: Type.Literal('ok') })
export const ReadinessSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Object({ database: CheckSchema, s3: CheckSchema }),
  failed: Type.Array(Type.String(), { description: 'the names of the failed checks' }),
})
export type Readiness = Static<typeof ReadinessSchema>

/** Liveness and readiness, without a token (for load balancers and orchestrators). */
const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/healthz', {
    schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: HealthSchema } },
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/readyz', {
    schema: {
      tags: ['operations'],
      summary: 'Readiness: the database and S3 answer',
      response: { 200: ReadinessSchema, 503: { ...ReadinessSchema, description: 'a dependency failed; `failed` names it' } },
    },
  }, async (request, reply) => {
    const checks = {
      database: () => pingDatabase(fastify.database.db),
      s3: () => fastify.artifacts.ping(),
    }
    const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => {
      try {
        await withTimeout(check(), CHECK_TIMEOUT_MS, `${name} did not answer within ${CHECK_TIMEOUT_MS} ms`)
        return [name, 'ok'] as const
      } catch (error) {
        // the reason goes to the log only: this route needs no token
        request.log.warn({ err: error, check: name }, 'readiness check failed')
        return [name, 'failed'] as const
      }
    }))
    const failed = results.filter(([, result]) => result === 'failed').map(([name]) => name)
    const body: Readiness = {
      status: failed.length === 0 ? 'ok' : 'unavailable',
      checks: Object.fromEntries(results) as Readiness['checks'],
      failed,
    }
    return reply.code(failed.length === 0 ? 200 : 503).send(body)
  })
}

async function withTimeout<T> (promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((resolve, reject) => { timer = setTimeout(() => reject(new Error(message)), ms) }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

export default healthRoutes
