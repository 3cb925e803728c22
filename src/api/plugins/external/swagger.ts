import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

/**
 * The OpenAPI document, generated from the routes' TypeBox schemas (nothing is written by hand), served as JSON at
 * `/docs/json` with Swagger UI at `/docs`. Routes that need a token declare the `bearerAuth` scheme (see auth).
 */
export default fp(async function swaggerPlugin (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'modelpin admin API',
        description: 'Releases of an ONNX image classifier pinned to S3 object versions, promoted to aliases served by AWS Lambda.',
        version: '1',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'a token minted by POST /v1/tokens, or the admin token' },
        },
      },
      tags: [
        { name: 'models', description: 'registered models' },
        { name: 'artifacts', description: 'S3 versions of a model\'s weights and labels' },
        { name: 'releases', description: 'numbered pairs of a weights version and a labels version' },
        { name: 'aliases', description: 'promote, roll back, canary, history' },
        { name: 'rollouts', description: 'canary steps judged on Lambda\'s metrics, promoted or rolled back on their own' },
        { name: 'predict', description: 'one request against any release' },
        { name: 'evaluations', description: 'a candidate release against a baseline on recent real inputs' },
        { name: 'tokens', description: 'API tokens' },
        { name: 'operations', description: 'health, readiness, metrics' },
      ],
    },
  })
  await fastify.register(swaggerUi, { routePrefix: '/docs' })
}, { name: 'swagger' })
