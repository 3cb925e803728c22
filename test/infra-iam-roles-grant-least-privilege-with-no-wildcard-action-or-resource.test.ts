import t from 'tap'
import { OPTIMIZED_GRAPH_PREFIX } from '../src/inference/optimized-graph.js'
import {
  blocks, deepReferences, functionEnvironment, isObject, loadTerraform, onlyResource, policyDocumentName, policyStatements,
  references, refersTo, resourceNames, resourcesOf, soleExpression, stringList, type HclBlock, type TerraformConfig,
} from './helpers/hcl.js'

const config = await loadTerraform()
const [functionResource, fn] = onlyResource(config, 'aws_lambda_function')
const FUNCTION = `aws_lambda_function.${functionResource}`

/** The role the function runs as, and the other one (the admin API's). */
const functionRole = resourceNames(await references(fn.role), 'aws_iam_role')[0] ?? ''
const roles = resourcesOf(config, 'aws_iam_role').map(([name]) => name)
const adminRole = roles.find((name) => name !== functionRole) ?? ''

/**
 * The locals that turn var.evaluation_input_buckets into ARNs: the only resources that come from a variable rather
 * than from a resource declared here (those buckets belong to someone else).
 */
const EVALUATION_ARNS = ['local.evaluation_bucket_arns', 'local.evaluation_object_arns']

/** A statement's resources: a literal list, or one of the EVALUATION_ARNS locals as `${local.x}`; anything else throws. */
function statementResources (statement: HclBlock, where: string): string[] {
  const expression = soleExpression(statement.resources)
  if (expression !== undefined && EVALUATION_ARNS.includes(expression)) return [`\${${expression}}`]
  return stringList(statement.resources, where)
}

/** Every statement granted to `role`, from its inline policies; a policy that is not a readable document fails. */
async function roleStatements (config: TerraformConfig, role: string): Promise<HclBlock[]> {
  const statements: HclBlock[] = []
  for (const [name, policy] of resourcesOf(config, 'aws_iam_role_policy')) {
    if (!refersTo(await references(policy.role), `aws_iam_role.${role}`)) continue
    statements.push(...await policyStatements(config, policyDocumentName(policy.policy, `aws_iam_role_policy.${name}.policy`)))
  }
  return statements
}

t.test('there are exactly two roles: the function\'s and the admin API\'s', async (t) => {
  t.equal(roles.length, 2)
  t.ok(functionRole, 'the function runs as a role declared here')
  t.ok(adminRole)
  t.not(functionRole, adminRole)
})

t.test('no role gets a managed policy or a policy that cannot be read here', async (t) => {
  t.same(resourcesOf(config, 'aws_iam_role_policy_attachment'), [], 'no policy attachments (AWS managed policies grant *)')
  t.same(resourcesOf(config, 'aws_iam_policy'), [])
  for (const name of roles) {
    const role = config.resources.aws_iam_role?.[name] ?? {}
    t.equal(role.managed_policy_arns, undefined, `${name}: no managed_policy_arns`)
    t.same(blocks(role.inline_policy), [], `${name}: no inline_policy block`)
    t.ok((await roleStatements(config, name)).length > 0, `${name} has statements`)
  }
  // Every inline policy belongs to one of the two roles and is a policy document data source.
  for (const [name, policy] of resourcesOf(config, 'aws_iam_role_policy')) {
    t.ok(roles.some((role) => refersTo([soleExpression(policy.role) ?? ''], `aws_iam_role.${role}`)), `${name} is on a role`)
    t.doesNotThrow(() => policyDocumentName(policy.policy, name), `${name} is a policy document`)
  }
})

t.test('no statement of either role has a * action or a * resource (every statement walked)', async (t) => {
  for (const role of roles) {
    const statements = await roleStatements(config, role)
    for (const [i, statement] of statements.entries()) {
      const where = `${role} statement ${String(statement.sid ?? i)}`
      t.equal(statement.not_actions, undefined, `${where}: no not_actions`)
      t.equal(statement.not_resources, undefined, `${where}: no not_resources`)
      t.same(blocks(statement.principals), [], `${where}: no principals in an identity policy`)
      t.not(statement.effect, 'Deny', `${where}: grants only`)
      const actions = stringList(statement.actions, `${where} actions`)
      t.ok(actions.length > 0, `${where}: has actions`)
      for (const action of actions) {
        t.notOk(action.includes('*'), `${where}: action ${action} is not a wildcard`)
        t.match(action, /^[a-z0-9-]+:[A-Za-z]+$/, `${where}: ${action} is one named action`)
      }
      const resources = statementResources(statement, `${where} resources`)
      t.ok(resources.length > 0, `${where}: has resources`)
      for (const resource of resources) {
        if (resource === '*') {
          // The one exception, documented in iam.tf: GetMetricData has no resource-level permission at all.
          t.same(actions, ['cloudwatch:GetMetricData'], `${where}: * only for cloudwatch:GetMetricData, alone in its statement`)
          t.equal(role, adminRole, `${where}: * only on the admin API's role`)
          continue
        }
        if (EVALUATION_ARNS.includes(soleExpression(resource) ?? '')) {
          // Built from the variable's bucket names, one ARN per bucket: the bucket itself or every object of it.
          const local = config.locals[(soleExpression(resource) ?? '').slice('local.'.length)]
          t.match(String(local), /^\$\{\[for (\w+) in var\.evaluation_input_buckets : "arn:\$\{local\.partition\}:s3:::\$\{\1\}(\/\*)?"\]\}$/,
            `${where}: ${resource} is the ARNs of var.evaluation_input_buckets`)
          continue
        }
        // Anchored on the ARN of a resource declared here: a wildcard may only follow it (objects, log streams,
        // versions and aliases of that one resource).
        const anchor = /^\$\{(aws_[a-z0-9_]+)\.([a-z0-9_]+)\.arn\}/.exec(resource)
        t.ok(anchor, `${where}: ${resource} starts with the ARN of a resource declared here`)
        t.ok(config.resources[anchor?.[1] ?? '']?.[anchor?.[2] ?? ''], `${where}: ${anchor?.[1]}.${anchor?.[2]} exists`)
      }
    }
  }
})

t.test('the function reads the model\'s two keys at any version and nothing else of the model bucket', async (t) => {
  const environment = await functionEnvironment(config, fn)
  const model = resourceNames(await references(environment.MODEL_BUCKET), 'aws_s3_bucket')[0]
  const output = resourceNames(await references(environment.OUTPUT_BUCKET), 'aws_s3_bucket')[0]
  t.ok(model)
  t.ok(output)
  const modelArn = `\${aws_s3_bucket.${model}.arn}`
  // The grant must be on exactly the objects the function's configuration names.
  const expected = [`${modelArn}/${String(environment.MODEL_WEIGHTS_KEY)}`, `${modelArn}/${String(environment.MODEL_LABELS_KEY)}`]

  const statements = await roleStatements(config, functionRole)
  // Derived optimised graphs of its weights key: read and write there, and only there.
  const graphs = `${modelArn}/${OPTIMIZED_GRAPH_PREFIX}${String(environment.MODEL_WEIGHTS_KEY)}/*`
  const onGraphs = statements.filter((s) => statementResources(s, 'resources').some((r) => r.startsWith(`${modelArn}/${OPTIMIZED_GRAPH_PREFIX}`)))
  t.equal(onGraphs.length, 1, 'one statement on the derived graphs')
  t.same(statementResources(onGraphs[0] ?? {}, 'resources'), [graphs], 'the graphs of the configured weights key only')
  t.same(stringList(onGraphs[0]?.actions, 'actions').sort(), ['s3:GetObject', 's3:PutObject'])
  const onModel = statements.filter((s) => s !== onGraphs[0] && statementResources(s, 'resources').some((r) => r.startsWith(`${modelArn}/`)))
  t.equal(onModel.length, 1, 'one statement on the model bucket\'s objects')
  t.same(statementResources(onModel[0] ?? {}, 'resources').sort(), expected.sort(), 'exactly the weights and labels objects')
  t.same(stringList(onModel[0]?.actions, 'actions').sort(), ['s3:GetObject', 's3:GetObjectVersion'])

  const grants = (action: string, anchor: string): boolean => statements.some((s) =>
    stringList(s.actions, 'actions').includes(action) &&
    statementResources(s, 'resources').some((r) => r.startsWith(anchor)))
  const [, notification] = onlyResource(config, 'aws_s3_bucket_notification')
  const input = resourceNames(await references(notification.bucket), 'aws_s3_bucket')[0]
  t.ok(grants('s3:GetObject', `\${aws_s3_bucket.${input}.arn}/`), 'reads the input bucket\'s objects')
  t.ok(grants('s3:GetObjectVersion', `\${aws_s3_bucket.${input}.arn}/`), 'at the S3 record\'s VersionId')
  t.ok(grants('s3:PutObject', `\${aws_s3_bucket.${output}.arn}/`), 'writes the output bucket\'s objects')
  t.notOk(statements.some((s) => stringList(s.actions, 'actions').some((a) => /Delete|Put/.test(a)) &&
    statementResources(s, 'resources').some((r) => r.startsWith(modelArn) && r !== graphs)), 'never writes or deletes the model')
  t.notOk(statements.some((s) => stringList(s.actions, 'actions').some((a) => /Delete/.test(a)) &&
    statementResources(s, 'resources').includes(graphs)), 'never deletes a graph either')

  // On the bucket itself: listing, so that a missing key or version is NoSuchKey / NoSuchVersion rather than
  // AccessDenied, limited to the two keys by s3:prefix (S3 checks a GetObject's 404 with the key as prefix).
  const onModelBucket = statements.filter((s) => statementResources(s, 'resources').includes(modelArn))
  t.equal(onModelBucket.length, 1, 'one statement on the model bucket itself')
  const listing = onModelBucket[0] ?? {}
  t.same(statementResources(listing, 'resources'), [modelArn], 'the bucket, nothing else in that statement')
  t.same(stringList(listing.actions, 'actions').sort(), ['s3:ListBucket', 's3:ListBucketVersions'])
  const prefixConditions = blocks(listing.condition)
  t.equal(prefixConditions.length, 1, 'one condition')
  t.equal(prefixConditions[0]?.test, 'StringEquals', 'exact keys, no pattern')
  t.equal(prefixConditions[0]?.variable, 's3:prefix')
  t.same(stringList(prefixConditions[0]?.values, 'prefix values').sort(),
    [String(environment.MODEL_WEIGHTS_KEY), String(environment.MODEL_LABELS_KEY)].sort(), 'the two keys the function is configured with')

  const [groupName] = onlyResource(config, 'aws_cloudwatch_log_group')
  const logs = statements.filter((s) => stringList(s.actions, 'actions').some((a) => a.startsWith('logs:')))
  t.ok(logs.length > 0, 'writes logs')
  for (const statement of logs) {
    t.same(stringList(statement.actions, 'actions').sort(), ['logs:CreateLogStream', 'logs:PutLogEvents'])
    for (const resource of statementResources(statement, 'resources')) {
      t.ok(resource.startsWith(`\${aws_cloudwatch_log_group.${groupName}.arn}:`), 'only in its own log group')
    }
  }

  // Lambda sends failed asynchronous invocations to the on-failure queue with this role, and that is all it may send.
  const [, invokeConfig] = onlyResource(config, 'aws_lambda_function_event_invoke_config')
  const destination = blocks(blocks(invokeConfig.destination_config)[0]?.on_failure)[0]?.destination
  const [queue] = resourceNames(await references(destination), 'aws_sqs_queue')
  t.ok(queue, 'the on-failure destination is a queue declared here')
  const sqs = statements.filter((s) => stringList(s.actions, 'actions').some((a) => a.startsWith('sqs:')))
  t.equal(sqs.length, 1)
  t.same(stringList(sqs[0]?.actions, 'actions'), ['sqs:SendMessage'])
  t.same(statementResources(sqs[0] ?? {}, 'resources'), [`\${aws_sqs_queue.${queue}.arn}`], 'on that queue only')

  const trust = await policyStatements(config, policyDocumentName(config.resources.aws_iam_role?.[functionRole]?.assume_role_policy, 'trust'))
  t.same(trust.flatMap((s) => blocks(s.principals)).map((p) => [p.type, p.identifiers]), [['Service', ['lambda.amazonaws.com']]])
})

t.test('the admin API role is assumable by principals given as a variable, and can do what modelpin does', async (t) => {
  const role = config.resources.aws_iam_role?.[adminRole] ?? {}
  const trust = await policyStatements(config, policyDocumentName(role.assume_role_policy, 'admin trust'))
  t.equal(trust.length, 1)
  t.same(stringList(trust[0]?.actions, 'actions'), ['sts:AssumeRole'])
  const principals = blocks(trust[0]?.principals)
  t.equal(principals.length, 1)
  t.equal(principals[0]?.type, 'AWS')
  const identifiers = /^var\.([a-z0-9_]+)$/.exec(soleExpression(principals[0]?.identifiers) ?? '')?.[1]
  t.ok(identifiers, 'the trusted principals are a variable')
  t.equal(config.variables[identifiers ?? '']?.default, undefined, 'with no default: who administers is a decision')

  const statements = await roleStatements(config, adminRole)
  const granted = (resourcePrefix: string): Set<string> => new Set(statements
    .filter((s) => statementResources(s, 'resources').some((r) => r.startsWith(resourcePrefix)))
    .flatMap((s) => stringList(s.actions, 'actions')))

  const environment = await functionEnvironment(config, fn)
  const model = resourceNames(await references(environment.MODEL_BUCKET), 'aws_s3_bucket')[0]
  const onBucket = new Set(statements
    .filter((s) => statementResources(s, 'resources').includes(`\${aws_s3_bucket.${model}.arn}`))
    .flatMap((s) => stringList(s.actions, 'actions')))
  for (const action of ['s3:ListBucket', 's3:ListBucketVersions']) t.ok(onBucket.has(action), `${action} on the model bucket`)
  const onObjects = granted(`\${aws_s3_bucket.${model}.arn}/`)
  for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject']) t.ok(onObjects.has(action), `${action} on its objects`)
  t.notOk([...onObjects].some((a) => a.startsWith('s3:Delete')), 'no delete on the model objects')

  const lambdaStatements = statements.filter((s) => stringList(s.actions, 'actions').some((a) => a.startsWith('lambda:')))
  const lambdaActions = new Set(lambdaStatements.flatMap((s) => stringList(s.actions, 'actions')))
  for (const action of ['GetFunction', 'GetFunctionConfiguration', 'UpdateFunctionConfiguration', 'PublishVersion',
    'ListVersionsByFunction', 'GetAlias', 'CreateAlias', 'UpdateAlias', 'ListAliases', 'InvokeFunction']) {
    t.ok(lambdaActions.has(`lambda:${action}`), `lambda:${action}`)
  }
  t.notOk(lambdaActions.has('lambda:UpdateFunctionCode'), 'cannot change the code')
  t.notOk(lambdaActions.has('lambda:DeleteFunction'), 'cannot delete the function')
  for (const statement of lambdaStatements) {
    for (const resource of statementResources(statement, 'resources')) {
      t.ok([`\${${FUNCTION}.arn}`, `\${${FUNCTION}.arn}:*`].includes(resource), `${resource}: this function, its versions and aliases only`)
    }
  }
  // Every statement is on the model bucket or the function, except listing the evaluations' input buckets and
  // reading metrics: nothing else.
  const [, notification] = onlyResource(config, 'aws_s3_bucket_notification')
  const input = resourceNames(await references(notification.bucket), 'aws_s3_bucket')[0]
  for (const statement of statements) {
    const actions = stringList(statement.actions, 'actions')
    for (const resource of statementResources(statement, 'resources')) {
      const refs = await deepReferences(config, resource)
      if (refersTo(refs, `aws_s3_bucket.${model}`) || refersTo(refs, FUNCTION)) continue
      if (resource === `\${aws_s3_bucket.${input}.arn}` || refersTo(refs, 'var.evaluation_input_buckets')) {
        t.same(actions, ['s3:ListBucket'], `${resource}: an evaluation input bucket, listed only (the function reads the objects)`)
      } else if (resource === '*') {
        t.same(actions, ['cloudwatch:GetMetricData'], '*: reading metrics only')
      } else {
        t.fail(`${resource} is neither the model bucket, the function, an evaluation input bucket nor GetMetricData's *`)
      }
    }
  }
  t.ok(statements.some((s) => stringList(s.actions, 'actions').includes('cloudwatch:GetMetricData')), 'reads metrics (rollouts)')
  t.ok(statements.some((s) => stringList(s.actions, 'actions').includes('s3:ListBucket') &&
    statementResources(s, 'resources').includes(`\${aws_s3_bucket.${input}.arn}`)), 'lists the input bucket (evaluations)')
})

t.test('evaluation input buckets come from one variable: the admin API lists them, the function reads their objects', async (t) => {
  const variable = config.variables.evaluation_input_buckets
  t.ok(variable, 'variable evaluation_input_buckets')
  t.match(String(variable?.type), /list\(string\)/)
  t.same(variable?.default, [], 'none beyond the input bucket by default')

  const expectations: Array<[string, string, string[]]> = [
    [adminRole, 'local.evaluation_bucket_arns', ['s3:ListBucket']],
    [functionRole, 'local.evaluation_object_arns', ['s3:GetObject', 's3:GetObjectVersion']],
  ]
  for (const [role, local, actions] of expectations) {
    const statements = (await roleStatements(config, role)).filter((s) => soleExpression(s.resources) === local)
    t.equal(statements.length, 1, `${role}: one statement on ${local}`)
    t.same(stringList(statements[0]?.actions, 'actions').sort(), actions, `${role}: ${actions.join(', ')}`)
  }

  // With an empty list the statements must vanish (a statement without a resource is an invalid policy): each is a
  // dynamic block whose for_each is empty when the variable is.
  for (const [name] of resourcesOf(config, 'aws_iam_role_policy')) {
    const document = config.data.aws_iam_policy_document?.[policyDocumentName(config.resources.aws_iam_role_policy?.[name]?.policy, name)] ?? {}
    const dynamic = isObject(document.dynamic) ? blocks(document.dynamic.statement) : []
    let checked = 0
    for (const generator of dynamic) {
      const contents = blocks(generator.content)
      if (!contents.some((c) => EVALUATION_ARNS.includes(soleExpression(c.resources) ?? ''))) continue
      t.ok(refersTo(await references(generator.for_each), 'var.evaluation_input_buckets'), `${name}: for_each follows the variable`)
      t.match(String(generator.for_each), /length\(var\.evaluation_input_buckets\) > 0 \?/, `${name}: no statement when it is empty`)
      checked++
    }
    t.equal(checked, 1, `${name}: one dynamic statement on the evaluation input buckets`)
  }
})
