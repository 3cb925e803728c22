import Fastify, {
  type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions,
} from 'fastify'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { OutcomeUnknownError, RegistryError } from '../registry/errors.js'
import type { Deployer } from '../registry/deployer.js'
import type { StepMetrics } from '../registry/registry.js'
import { loggerOptions } from '../logging.js'
import type { ApiConfig } from './config.js'
import { ApiError, isErrorCode, STATUS_BY_CODE, type ErrorCode } from './errors.js'
import configPlugin from './plugins/app/config.js'
import drainPlugin from './plugins/app/drain.js'
import databasePlugin from './plugins/app/database.js'
import s3Plugin from './plugins/app/s3.js'
import authPlugin from './plugins/app/auth.js'
import registryPlugin from './plugins/app/registry.js'
import metricsPlugin from './plugins/app/metrics.js'
import securityHeadersPlugin, { setSecurityHeaders } from './plugins/app/security-headers.js'
import swaggerPlugin from './plugins/external/swagger.js'
import healthRoutes from './routes/health/index.js'
import metricsRoutes from './routes/metrics/index.js'
import tokenRoutes from './routes/tokens/index.js'
import modelRoutes from './routes/models/index.js'
import artifactRoutes from './routes/artifacts/index.js'
import releaseRoutes from './routes/releases/index.js'
import aliasRoutes from './routes/aliases/index.js'
import rolloutRoutes from './routes/rollouts/index.js'
import predictRoutes from './routes/predict/index.js'
import uiRoutes from './routes/ui/index.js'
import evaluationRoutes from './routes/evaluations/index.js'

export interface AppOptions {
  config: ApiConfig
  /** pushes aliases to Lambda; without one, every model is registry-only */
  deployer?: Deployer | undefined
  /** Lambda's per-version metrics (CloudWatch) that rollouts judge by; without it rollouts cannot start */
  metrics?: StepMetrics | undefined
  /** explicit S3 credentials (tests); by default the AWS SDK's credential chain */
  s3Credentials?: { accessKeyId: string, secretAccessKey: string } | undefined
}

/**
 * The admin API as one plugin: services first (each a plugin that decorates the instance), then the error
 * handling, then the routes. `buildApp` wraps it in a Fastify instance; server.ts only listens.
 */
export default async function modelpinApi (fastify: FastifyInstance, options: AppOptions): Promise<void> {
  await fastify.register(configPlugin, { config: options.config })
  // first of the request hooks: a stopping API refuses a new request before any other hook runs
  await fastify.register(drainPlugin)
  await fastify.register(securityHeadersPlugin)
  await fastify.register(metricsPlugin)
  await fastify.register(swaggerPlugin)
  await fastify.register(databasePlugin)
  await fastify.register(s3Plugin, { credentials: options.s3Credentials })
  await fastify.register(registryPlugin, { deployer: options.deployer, metrics: options.metrics })
  await fastify.register(authPlugin)

  // Set before the routes are registered: a route keeps the handlers of the moment it is added.
  fastify.setErrorHandler(errorHandler)
  fastify.setNotFoundHandler((request, reply) => {
    reply.errorCode = 'not_found'
    return reply.code(STATUS_BY_CODE.not_found)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` } })
  })

  await fastify.register(healthRoutes)
  await fastify.register(metricsRoutes)
  await fastify.register(uiRoutes)
  await fastify.register(async function v1 (api) {
    await api.register(modelRoutes)
    await api.register(artifactRoutes)
    await api.register(releaseRoutes)
    await api.register(aliasRoutes)
    await api.register(rolloutRoutes)
    await api.register(predictRoutes)
    await api.register(evaluationRoutes)
    await api.register(tokenRoutes)
  }, { prefix: '/v1' })
}

export interface BuildOptions extends Omit<AppOptions, 'config'> {
  /** a pino logger to log through; by default one named `modelpin-api` at the configured level */
  logger?: Logger | undefined
}

/** The admin API, ready to serve (database migrated, admin token written); call `listen` or `inject` on it. */
export async function buildApp (config: ApiConfig, options: BuildOptions = {}): Promise<FastifyInstance> {
  const { logger, ...appOptions } = options
  const serverOptions: FastifyServerOptions = {
    ...(logger === undefined ? { logger: loggerOptions('modelpin-api', config.logLevel) } : { loggerInstance: logger }),
    // unknown fields in a body are refused (400), not silently dropped: a typo must not pass for an omission
    ajv: { customOptions: { removeAdditional: false } },
    // A client may stop sending an upload once it has its answer (a refused token or model): such a connection waits
    // for a body that never comes. Closing the app ends every connection instead of waiting for them to go idle.
    forceCloseConnections: true,
    // The router's own refusals (found by fuzzing) came in Fastify's shape, without the API's headers: a name in the
    // path over 100 characters was a 414 `{"error": "Bad Request", "code": "FST_ERR_MAX_PARAM_LENGTH"}`, a bad
    // percent-encoding a 400 of the same kind. They get the API's error shape and headers.
    frameworkErrors: routerRefusal,
  }
  const app = Fastify(serverOptions)
  try {
    await app.register(fp(modelpinApi), { config, ...appOptions })
    await app.ready()
  } catch (error) {
    await app.close().catch(() => {})
    throw error
  }
  return app
}

function routerRefusal (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const code: ErrorCode = error.code === 'FST_ERR_MAX_PARAM_LENGTH' || error.code === 'FST_ERR_BAD_URL' ? 'invalid_input' : 'internal'
  const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH'
    ? 'a name in the path is longer than any name this API accepts'
    : code === 'invalid_input' ? 'the URL is not valid: a part of its path is not valid percent-encoding' : 'internal error; the server log has the details'
  if (code === 'internal') reply.log.error({ err: error }, 'the router failed')
  setSecurityHeaders(reply)
  return reply.code(STATUS_BY_CODE[code]).send({ error: { code, message } })
}

/**
 * The one translation from an error to an answer. Codes come from the registry's domain errors, from ApiError, or
 * from Fastify's own 4xx errors; the status comes from STATUS_BY_CODE. Anything else is a 500 whose details are
 * logged and never sent.
 */
function errorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { code, message } = describeError(error)
  const status = STATUS_BY_CODE[code]
  if (status >= 500) {
    request.log.error({ err: error, code }, 'request failed')
  } else {
    request.log.info({ code, reason: message }, 'request refused')
  }
  reply.errorCode = code
  if (error instanceof OutcomeUnknownError) reply.header('retry-after', String(error.retryAfterSeconds))
  if (error instanceof ApiError && error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds))
  return reply.code(status).send({ error: { code, message } })
}

function describeError (error: FastifyError): { code: ErrorCode, message: string } {
  if (error instanceof ApiError) return { code: error.code, message: error.message }
  if (error instanceof RegistryError && isErrorCode(error.code)) return { code: error.code, message: error.message }
  if (error.validation !== undefined) return { code: 'invalid_input', message: error.message }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'invalid_json', message: `the body is not valid JSON: ${error.message}` }
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', message: error.message }
  }
  // Fastify's other client errors (bad Content-Length, body too large...) are the client's to fix
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { code: 'invalid_input', message: error.message }
  }
  return { code: 'internal', message: 'internal error; the server log has the details' }
}
