import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'

/**
 * Fastify's logger as the pino Logger that src/registry takes. buildApp always gives Fastify a pino logger (its
 * own or the caller's), so the narrower FastifyBaseLogger type is the only thing in the way.
 */
export function componentLogger (fastify: FastifyInstance, component: string): Logger {
  return fastify.log.child({ component }) as unknown as Logger
}
