import t, { type Test } from 'tap'
import { PIN_ENVIRONMENT } from '../src/contract/pin.js'
import {
  blocks, deepReferences, functionEnvironment, ignoredChanges, loadTerraform, onlyResource, references, refersTo,
  resourceNames, resourcesOf, soleExpression, type HclValue,
} from './helpers/hcl.js'

const config = await loadTerraform()
const [functionName, fn] = onlyResource(config, 'aws_lambda_function')
const [aliasName, alias] = onlyResource(config, 'aws_lambda_alias')
const FUNCTION = `aws_lambda_function.${functionName}`
const ALIAS = `aws_lambda_alias.${aliasName}`

/** The variable a `${var.x}` attribute reads, with its declaration; fails the test when it is anything else. */
function variableBehind (t: Test, value: HclValue | undefined, what: string): { name: string, default: unknown } | undefined {
  const name = /^var\.([a-z0-9_]+)$/.exec(soleExpression(value) ?? '')?.[1]
  t.ok(name, `${what} is a variable`)
  const variable = config.variables[name ?? '']
  t.ok(variable, `var.${name} is declared`)
  return variable === undefined || name === undefined ? undefined : { name, default: variable.default }
}

t.test('the function runs the container image on x86_64, sized by variables with justified defaults', async (t) => {
  t.equal(fn.package_type, 'Image')
  t.same(fn.architectures, ['x86_64'])
  t.equal(fn.publish, true, 'the first version is published, so the alias never points at $LATEST')

  const memory = variableBehind(t, fn.memory_size, 'memory_size')
  t.type(memory?.default, 'number')
  // The benchmark goal: two cached ResNet-50 versions within 1024 MB peak RSS, so the default must hold at least that.
  t.ok(Number(memory?.default) >= 1024 && Number(memory?.default) <= 10240, `memory default ${memory?.default} MB`)
  t.match(String(config.variables[memory?.name ?? '']?.description), /1024/, 'the description says why, from the 1024 MB figure')

  const timeout = variableBehind(t, fn.timeout, 'timeout')
  t.ok(Number(timeout?.default) >= 10 && Number(timeout?.default) <= 900, `timeout default ${timeout?.default} s`)
  t.match(String(config.variables[timeout?.name ?? '']?.description), /cold/, 'the description accounts for a cold load')

  t.ok(refersTo(await references(fn.role), 'aws_iam_role'), 'runs with a role declared here')
})

t.test('the environment carries every pin variable of the function, each from a variable or a bucket', async (t) => {
  const environment = await functionEnvironment(config, fn)
  const required = [...Object.values(PIN_ENVIRONMENT), 'OUTPUT_BUCKET', 'OUTPUT_PREFIX']
  for (const name of required) t.ok(name in environment, `${name} is set`)

  const bucketOf = async (name: string): Promise<string[]> =>
    resourceNames(await references(environment[name]), 'aws_s3_bucket')
  t.equal((await bucketOf('MODEL_BUCKET')).length, 1, 'MODEL_BUCKET is a bucket declared here')
  t.equal((await bucketOf('OUTPUT_BUCKET')).length, 1, 'OUTPUT_BUCKET is a bucket declared here')
  t.not((await bucketOf('MODEL_BUCKET'))[0], (await bucketOf('OUTPUT_BUCKET'))[0])

  for (const name of ['MODEL_WEIGHTS_KEY', 'MODEL_LABELS_KEY', 'MODEL_WEIGHTS_VERSION_ID', 'MODEL_LABELS_VERSION_ID',
    'MODEL_WEIGHTS_SHA256', 'MODEL_LABELS_SHA256', 'OUTPUT_PREFIX']) {
    const variable = variableBehind(t, environment[name], name)
    t.type(variable?.default, 'string', `${name} has a string default`)
  }
  // The optional digests are empty unless given, and the first pins name no version until the user gives one.
  for (const name of ['MODEL_WEIGHTS_SHA256', 'MODEL_LABELS_SHA256']) {
    const variable = config.variables[/var\.(\w+)/.exec(String(environment[name]))?.[1] ?? '']
    t.equal(variable?.default, '', `${name} defaults to empty`)
  }
})

t.test('the function ignores later environment changes; the alias ignores its version and routing', async (t) => {
  t.ok(ignoredChanges(fn).includes('environment'), 'the function ignores environment')
  t.notOk(ignoredChanges(fn).includes('image_uri'), 'a new image still deploys')
  t.equal(alias.name, 'live')
  t.ok(refersTo(await references(alias.function_name), FUNCTION), 'the alias is on this function')
  t.ok(refersTo(await references(alias.function_version), `${FUNCTION}.version`), 'first points at the published version')
  const ignored = ignoredChanges(alias)
  t.ok(ignored.includes('function_version'), 'the alias ignores function_version')
  t.ok(ignored.includes('routing_config'), 'the alias ignores routing_config')
})

t.test('the input bucket notifies the alias, and S3 may invoke only the alias', async (t) => {
  const [, notification] = onlyResource(config, 'aws_s3_bucket_notification')
  const [inputBucket] = resourceNames(await references(notification.bucket), 'aws_s3_bucket')
  t.ok(inputBucket, 'the notification is on a bucket declared here')
  const targets = blocks(notification.lambda_function)
  t.equal(targets.length, 1)
  for (const target of targets) {
    const refs = await deepReferences(config, target.lambda_function_arn)
    t.ok(refersTo(refs, `${ALIAS}.arn`), 'lambda_function_arn is the alias ARN')
    t.notOk(refersTo(refs, FUNCTION), 'not the unqualified function')
    t.ok(Array.isArray(target.events) && target.events.includes('s3:ObjectCreated:*'), 'on ObjectCreated')
  }

  const permissions = resourcesOf(config, 'aws_lambda_permission').filter(([, p]) => p.principal === 's3.amazonaws.com')
  t.equal(permissions.length, 1, 'one permission for S3')
  const [permissionName, permission] = permissions[0] ?? ['', {}]
  t.ok(refersTo(await references(permission.qualifier), `${ALIAS}.name`), 'the permission qualifier is the alias')
  t.ok(refersTo(await references(permission.function_name), ALIAS), 'function_name is read from the alias')
  t.ok(refersTo(await references(permission.source_arn), `aws_s3_bucket.${inputBucket}.arn`), 'source_arn is the input bucket')
  t.ok(refersTo(await deepReferences(config, permission.source_account), 'data.aws_caller_identity'), 'source_account is this account')
  t.equal(permission.action, 'lambda:InvokeFunction')
  t.ok(refersTo(await references(notification.depends_on), `aws_lambda_permission.${permissionName}`),
    'the notification is written after the permission exists')
})

t.test('every Lambda permission is on the alias qualifier, with a source ARN', async (t) => {
  const permissions = resourcesOf(config, 'aws_lambda_permission')
  t.ok(permissions.length >= 2)
  for (const [name, permission] of permissions) {
    t.ok(refersTo(await references(permission.qualifier), `${ALIAS}.name`), `${name}: qualifier is the alias`)
    t.ok(permission.source_arn, `${name}: has a source_arn`)
  }
})

t.test('an EventBridge rule warms the alias every minute with the warm-up event', async (t) => {
  const [ruleName, rule] = onlyResource(config, 'aws_cloudwatch_event_rule')
  t.equal(rule.schedule_expression, 'rate(1 minute)')

  const [, target] = onlyResource(config, 'aws_cloudwatch_event_target')
  t.ok(refersTo(await references(target.rule), `aws_cloudwatch_event_rule.${ruleName}`), 'the target is on the rule')
  const arn = await deepReferences(config, target.arn)
  t.ok(refersTo(arn, `${ALIAS}.arn`), 'the target is the alias ARN')
  t.notOk(refersTo(arn, FUNCTION), 'not the unqualified function')
  t.same(JSON.parse(String(target.input)), { warmup: true }, 'the input is the function\'s warm-up event')

  const permissions = resourcesOf(config, 'aws_lambda_permission').filter(([, p]) => p.principal === 'events.amazonaws.com')
  t.equal(permissions.length, 1, 'one permission for EventBridge')
  const permission = permissions[0]?.[1] ?? {}
  t.ok(refersTo(await references(permission.source_arn), `aws_cloudwatch_event_rule.${ruleName}.arn`), 'source_arn is the rule')
  t.ok(refersTo(await references(permission.qualifier), `${ALIAS}.name`), 'on the alias')

  // The three warm-up resources are switched together by one boolean variable.
  const counts = await Promise.all([rule, target, permission].map(async (r) => (await references(r.count)).join()))
  t.equal(new Set(counts).size, 1, 'same count expression')
  t.match(counts[0] ?? '', /^var\./)
})

t.test('provisioned concurrency on the alias is a variable, none by default', async (t) => {
  const [, provisioned] = onlyResource(config, 'aws_lambda_provisioned_concurrency_config')
  const variable = variableBehind(t, provisioned.provisioned_concurrent_executions, 'provisioned_concurrent_executions')
  t.equal(variable?.default, 0)
  t.ok(refersTo(await references(provisioned.count), `var.${variable?.name}`), 'count follows the variable: no resource at 0')
  t.ok(refersTo(await references(provisioned.qualifier), `${ALIAS}.name`), 'on the alias')
})

t.test('the function logs to a log group with retention, created before the function', async (t) => {
  const [groupName, group] = onlyResource(config, 'aws_cloudwatch_log_group')
  const retention = variableBehind(t, group.retention_in_days, 'retention_in_days')
  t.ok(Number(retention?.default) > 0, 'logs expire by default')
  // Lambda writes to /aws/lambda/<function name>: the group's name must be built from the same expression.
  const functionNameExpression = soleExpression(fn.function_name)
  t.ok(functionNameExpression)
  t.equal(group.name, `/aws/lambda/\${${functionNameExpression}}`)
  t.ok(refersTo(await references(fn.depends_on), `aws_cloudwatch_log_group.${groupName}`))
})
