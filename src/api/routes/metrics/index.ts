import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'

/** Prometheus's scrape endpoint, without a token (scrapers rarely carry one; nothing secret is exported). */
const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/metrics', {
    schema: {
      tags: ['operations'],
      summary: 'Prometheus metrics (text exposition format)',
      produces: ['text/plain'],
      response: { 200: Type.String({ description: 'Prometheus text format' }) },
    },
  }, async (request, reply) => {
    const registry = fastify.metrics.registry
    return reply.type(registry.contentType).send(await registry.metrics())
  })
}

export default metricsRoutes
