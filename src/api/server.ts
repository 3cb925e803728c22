import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { ApiConfig } from './config.js'
import { buildApp, type BuildOptions } from './app.js'

export interface ApiServer {
  app: FastifyInstance
  /** where it listens, e.g. `http://127.0.0.1:3000` (the real port when the configuration asked for 0) */
  url: string
  /** stops accepting connections, lets requests in flight finish, then closes the database and clients */
  close (): Promise<void>
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
    close: () => (closing ??= app.close()),
  }
}
