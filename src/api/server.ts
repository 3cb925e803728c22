import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { ApiConfig } from './config.js'
import { buildApp, type BuildOptions } from './app.js'

export interface ApiServer {
  app: FastifyInstance
  /** where it listens, e.g. `http://127.0.0.1:3000` (the real port when the configuration asked for 0) */
  url: string
  /**
   * Stops accepting requests, lets requests in flight (moves included) finish for up to `drainLimitMs`
   * (DRAIN_LIMIT_MS by default), then closes the remaining connections, the database and the clients.
   */
  close (options?: { drainLimitMs?: number }): Promise<void>
}

/** Drains the app (see plugins/app/drain.ts), then closes it. */
async function stop (app: FastifyInstance, drainLimitMs: number | undefined): Promise<void> {
  const unanswered = await app.drain(drainLimitMs)
  if (unanswered > 0) app.log.warn({ unanswered }, 'requests still in flight at the end of the drain are cut')
  await app.close()
}

/** Builds the admin API and listens on the configured host and port. */
export async function startApiServer (config: ApiConfig, options: BuildOptions = {}): Promise<ApiServer> {
  const app = await buildApp(config, options)
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await app.close()
    throw error
  }
  const address = app.server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    app,
    url: `http://${host}:${address.port}`,
    close: (options = {}) => (closing ??= stop(app, options.drainLimitMs)),
  }
}
