/**
 * `npm start`: the whole modelpin system on this machine (README: "What npm start brings up"). Prints progress, then
 * `modelpin ready` with the endpoints, the admin token and a few commands to try; Ctrl-C or SIGTERM stops what it
 * started, and nothing else.
 */
import { join, resolve } from 'node:path'
import { createLogger } from '../logging.js'
import { startStack, STACK_DEFAULTS, type Stack } from './stack.js'

function port (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a port number (1-65535), got "${raw}"`)
  return value
}

function milliseconds (name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0 || value > 600_000) throw new Error(`${name} must be a whole number of milliseconds (0-600000), got "${raw}"`)
  return value
}

async function main (): Promise<void> {
  const logger = createLogger('modelpin-stack', process.env.LOG_LEVEL ?? 'warn')
  const say = (line: string): void => { process.stderr.write(`[modelpin] ${line}\n`) }
  const modelKind = process.env.MODELPIN_DEMO_MODEL ?? 'resnet50'
  if (modelKind !== 'resnet50' && modelKind !== 'tiny') throw new Error(`MODELPIN_DEMO_MODEL must be resnet50 or tiny, got "${modelKind}"`)
  const dataDir = resolve(process.env.MODELPIN_DATA_DIR ?? STACK_DEFAULTS.dataDir)

  const starting: Promise<Stack> = startStack({
    dataDir,
    host: STACK_DEFAULTS.host,
    s3Port: port('MODELPIN_S3_PORT', STACK_DEFAULTS.s3Port),
    lambdaPort: port('MODELPIN_LAMBDA_PORT', STACK_DEFAULTS.lambdaPort),
    cloudwatchPort: port('MODELPIN_CLOUDWATCH_PORT', STACK_DEFAULTS.cloudwatchPort),
    apiPort: port('MODELPIN_API_PORT', STACK_DEFAULTS.apiPort),
    buckets: { ...STACK_DEFAULTS.buckets },
    functionName: STACK_DEFAULTS.functionName,
    functionAlias: STACK_DEFAULTS.functionAlias,
    model: STACK_DEFAULTS.model,
    modelKind,
    modelDir: join(dataDir, 'models', modelKind),
    adminToken: process.env.MODELPIN_ADMIN_TOKEN,
    lambdaUpdateMs: milliseconds('MODELPIN_LAMBDA_UPDATE_MS', STACK_DEFAULTS.lambdaUpdateMs),
    logger,
    say,
  })
  let stopping = false
  let ready = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    say(`${signal}: stopping${ready ? '' : ' (the start-up step in progress finishes first)'}`)
    // a failed start has already stopped what it started; a running one is closed here
    starting.then((stack) => stack.close(), () => {}).then(() => {
      say('stopped')
      process.exit(0)
    }, (error: unknown) => {
      say(`stop failed: ${String(error)}`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))

  const stack = await starting
  if (stopping) return
  ready = true
  const { info, token } = stack
  const m = info.model.name
  console.log(`modelpin ready
  admin API     ${info.endpoints.api}   (OpenAPI: ${info.endpoints.api}/docs)
  web console   ${info.endpoints.api}/ui/   (sign in with the admin token below)
  Lambda API    ${info.endpoints.lambda}   function ${info.function.name}, alias ${info.function.alias}
  CloudWatch    ${info.endpoints.cloudwatch}   GetMetricData of the invocations the runtime ran (rollouts read it)
  S3 (radosgw)  ${info.endpoints.s3}   keys ${info.credentials.accessKeyId} / ${info.credentials.secretAccessKey}
  buckets       input ${info.buckets.input}, models ${info.buckets.models}, output ${info.buckets.output}
  admin token   ${token}   (also in ${info.adminTokenFile})
  stack info    ${join(dataDir, 'stack.json')}

Try:
  export API=${info.endpoints.api} TOKEN=$(cat ${info.adminTokenFile})
  curl -s -H "authorization: Bearer $TOKEN" $API/v1/models/${m}/releases
  curl -s -H "authorization: Bearer $TOKEN" $API/v1/models/${m}/aliases/production
  curl -s -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"release": 2, "reason": "try release 2"}' $API/v1/models/${m}/aliases/production/promote
  curl -s -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{}' $API/v1/models/${m}/aliases/production/rollback
  npx modelpin history ${m} production
  npx modelpin rollout ${m} production start 2 --steps 10%,50% --step 10s   (with some traffic on ${info.function.alias})
  export AWS_ACCESS_KEY_ID=${info.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${info.credentials.secretAccessKey} AWS_DEFAULT_REGION=${info.credentials.region}
  aws --endpoint-url ${info.endpoints.s3} s3 cp test/fixtures/photo-500x375.jpg s3://${info.buckets.input}/photo.jpg
  aws --endpoint-url ${info.endpoints.s3} s3 cp s3://${info.buckets.output}/photo.jpg.json -
Ctrl-C stops everything the stack started.`)
}

main().catch((error: unknown) => {
  process.stderr.write(`[modelpin] the stack did not start: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
