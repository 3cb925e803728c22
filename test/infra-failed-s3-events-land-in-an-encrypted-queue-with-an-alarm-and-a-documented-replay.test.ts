import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import {
  INFRA_DIR, block, blocks, deepReferences, loadTerraform, onlyResource, references, refersTo, resourcesOf, soleExpression,
} from './helpers/hcl.js'

const config = await loadTerraform()
const [aliasName] = onlyResource(config, 'aws_lambda_alias')
const ALIAS = `aws_lambda_alias.${aliasName}`
const [invokeConfigName, invokeConfig] = onlyResource(config, 'aws_lambda_function_event_invoke_config')

/** The queue the on-failure destination names. */
async function failureQueue (): Promise<string> {
  const onFailure = block(block(invokeConfig.destination_config, 'destination_config').on_failure, 'on_failure')
  const refs = await references(onFailure.destination)
  const queue = refs.find((r) => /^aws_sqs_queue\.[a-z0-9_]+\.arn$/.test(r))?.split('.')[1]
  if (queue === undefined) throw new Error(`on_failure.destination is ${JSON.stringify(onFailure.destination)}, not a queue ARN`)
  return queue
}

t.test('asynchronous invocations of the alias S3 invokes send their failures to a queue', async (t) => {
  // The alias S3 notifies (the notification's target) is the one whose async invocations are configured.
  const [, notification] = onlyResource(config, 'aws_s3_bucket_notification')
  const target = blocks(notification.lambda_function)[0]
  t.ok(refersTo(await deepReferences(config, target?.lambda_function_arn), `${ALIAS}.arn`))
  t.ok(refersTo(await references(invokeConfig.function_name), ALIAS), 'function_name read from the alias')
  t.ok(refersTo(await references(invokeConfig.qualifier), `${ALIAS}.name`), `${invokeConfigName} is on the alias qualifier`)

  const retries = Number(invokeConfig.maximum_retry_attempts)
  t.ok(retries >= 1 && retries <= 2, `Lambda retries a failure (${retries})`)
  t.ok(Number(invokeConfig.maximum_event_age_in_seconds) >= 3600, 'an event is not dropped for age before its retries')

  const queue = await failureQueue()
  t.ok(config.resources.aws_sqs_queue?.[queue], `the destination is aws_sqs_queue.${queue}, declared here`)
  t.same(blocks(block(invokeConfig.destination_config, 'destination_config').on_success), [], 'only failures')
  // Lambda checks the role's permission to send when the configuration is written.
  t.ok(refersTo(await references(invokeConfig.depends_on), 'aws_iam_role_policy'), 'written after the role may send')
})

t.test('the queue is encrypted, keeps messages as long as SQS allows and is named from the prefix', async (t) => {
  const queue = config.resources.aws_sqs_queue?.[await failureQueue()] ?? {}
  t.ok(queue.sqs_managed_sse_enabled === true || typeof queue.kms_master_key_id === 'string', 'server-side encryption')
  t.equal(queue.message_retention_seconds, 1209600, '14 days, the maximum: time to notice and replay')
  t.ok(refersTo(await deepReferences(config, queue.name), 'var.prefix'), 'named from the prefix')
  t.equal(resourcesOf(config, 'aws_sqs_queue').length, 1)
})

t.test('an alarm fires while the queue holds a message', async (t) => {
  const queue = await failureQueue()
  const alarms = []
  for (const [name, alarm] of resourcesOf(config, 'aws_cloudwatch_metric_alarm')) {
    const dimensions = alarm.dimensions
    const queueName = typeof dimensions === 'object' && dimensions !== null && !Array.isArray(dimensions) ? dimensions.QueueName : undefined
    if (refersTo(await references(queueName), `aws_sqs_queue.${queue}.name`)) alarms.push([name, alarm] as const)
  }
  t.equal(alarms.length, 1, 'one alarm on the queue')
  const [, alarm] = alarms[0] ?? ['', {}]
  t.equal(alarm.namespace, 'AWS/SQS')
  t.equal(alarm.metric_name, 'ApproximateNumberOfMessagesVisible', 'on its depth')
  t.equal(alarm.comparison_operator, 'GreaterThanThreshold')
  t.equal(alarm.threshold, 0, 'one message is enough')
  t.equal(alarm.treat_missing_data, 'notBreaching', 'an idle queue publishes nothing: that is not an alarm')
  const actions = soleExpression(alarm.alarm_actions)
  t.equal(actions, 'var.alarm_actions', 'who is told is a variable')
  t.same(config.variables.alarm_actions?.default, [])
})

t.test('an output names the queue and the README says how to replay what lands there', async (t) => {
  const queue = await failureQueue()
  const outputs = Object.entries(config.outputs)
  const named = []
  for (const [name, output] of outputs) {
    if (refersTo(await references(output.value), `aws_sqs_queue.${queue}`)) named.push(name)
  }
  t.ok(named.length > 0, `outputs: ${named.join(', ')}`)

  const readme = await readFile(join(INFRA_DIR, 'README.md'), 'utf8')
  const replay = /```sh\n([^`]*aws sqs receive-message[^`]*)```/.exec(readme)?.[1] ?? ''
  t.ok(replay, 'a replay script in the README')
  const queueOutput = /output -raw ([a-z0-9_]+)\)/.exec(/QUEUE=\$\(terraform[^\n]*/.exec(replay)?.[0] ?? '')?.[1]
  t.ok(queueOutput !== undefined && named.includes(queueOutput), `it reads the queue from output ${queueOutput}`)
  t.match(replay, /requestPayload/, 'it re-sends the on-failure record\'s requestPayload (the S3 event)')
  t.match(replay, /aws lambda invoke [^\n]*--invocation-type Event/, 'asynchronously, as S3 would')
  t.match(replay, /--qualifier "\$ALIAS"|--qualifier live/, 'to the alias')
  t.match(replay, /aws sqs delete-message/, 'and deletes what it replayed')
})
