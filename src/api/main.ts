import { createLogger } from '../logging.js'
import { CloudWatchStepMetrics, createCloudWatchClient } from '../deploy/cloudwatch-metrics.js'
import { createLambdaClient, LambdaDeployer } from '../deploy/lambda-deployer.js'
import { loadApiConfig } from './config.js'
import { startApiServer } from './server.js'

/**
 * The admin API's production entry: `node dist/src/api/main.js` (after `npm run build`) or `npx tsx src/api/main.ts`.
 * Configuration comes from the environment (see API_ENVIRONMENT in config.ts). SIGTERM and SIGINT stop it gracefully:
 * no new requests, the ones in flight (moves included) finish, then it exits 0 (see plugins/app/drain.ts).
 */
async function main (): Promise<void> {
  const config = loadApiConfig()
  const logger = createLogger('modelpin-api', config.logLevel)
  // The one place the API meets Lambda: AWS's API, or the local runtime when AWS_ENDPOINT_URL_LAMBDA points at it.
  const lambda = createLambdaClient({ endpoint: config.lambdaEndpoint, region: config.s3.region })
  const deployer = new LambdaDeployer({ lambda, logger: logger.child({ component: 'deployer' }) })
  // rollouts judge Lambda's own per-version metrics: AWS CloudWatch, or the local runtime's subset
  const cloudwatch = createCloudWatchClient({ endpoint: config.cloudwatchEndpoint, region: config.s3.region })
  const metrics = new CloudWatchStepMetrics(cloudwatch, config.metricsPeriodSeconds)
  const server = await startApiServer(config, { logger, deployer, metrics })
  logger.info({ url: server.url }, 'modelpin admin API listening')

  const stop = (signal: NodeJS.Signals): void => {
    // a second signal, of either kind, takes its default action: it ends the process without waiting for the drain
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
    logger.info({ signal }, 'shutting down')
    server.close().then(
      () => {
        lambda.destroy()
        cloudwatch.destroy()
        process.exitCode = 0
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exitCode = 1
      })
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

main().catch((error: unknown) => {
  // configuration and start-up errors name what is wrong; a stack trace would only bury that
  console.error(`modelpin admin API did not start: ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
