import fp from 'fastify-plugin'
import type { ApiConfig } from '../../config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: ApiConfig
  }
}

/** Makes the validated configuration available to every plugin and route as `fastify.config`. */
export default fp<{ config: ApiConfig }>(async function configPlugin (fastify, options) {
  fastify.decorate('config', options.config)
}, { name: 'config' })
