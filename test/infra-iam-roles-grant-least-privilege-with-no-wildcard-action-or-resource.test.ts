import t from 'tap'
import {
  blocks, deepReferences, functionEnvironment, loadTerraform, onlyResource, policyDocumentName, policyStatements,
  references, refersTo, resourceNames, resourcesOf, soleExpression, stringList, type HclBlock, type TerraformConfig,
} from './helpers/hcl.js'

const config = await loadTerraform()
const [functionResource, fn] = onlyResource(config, 'aws_lambda_function')
const FUNCTION = `aws_lambda_function.${functionResource}`

/** The role the function runs as, and the other one (the admin API's). */
const functionRole = resourceNames(await references(fn.role), 'aws_iam_role')[0] ?? ''
const roles = resourcesOf(config, 'aws_iam_role').map(([name]) => name)
const adminRole = roles.find((name) => name !== functionRole) ?? ''

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
      const resources = stringList(statement.resources, `${where} resources`)
      t.ok(resources.length > 0, `${where}: has resources`)
      for (const resource of resources) {
        t.not(resource, '*', `${where}: resource is not *`)
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
  const onModel = statements.filter((s) => stringList(s.resources, 'resources').some((r) => r.startsWith(modelArn)))
  t.equal(onModel.length, 1, 'one statement on the model bucket')
  t.same(stringList(onModel[0]?.resources, 'resources').sort(), expected.sort(), 'exactly the weights and labels objects')
  t.same(stringList(onModel[0]?.actions, 'actions').sort(), ['s3:GetObject', 's3:GetObjectVersion'])

  const grants = (action: string, anchor: string): boolean => statements.some((s) =>
    stringList(s.actions, 'actions').includes(action) &&
    stringList(s.resources, 'resources').some((r) => r.startsWith(anchor)))
  const [, notification] = onlyResource(config, 'aws_s3_bucket_notification')
  const input = resourceNames(await references(notification.bucket), 'aws_s3_bucket')[0]
  t.ok(grants('s3:GetObject', `\${aws_s3_bucket.${input}.arn}/`), 'reads the input bucket\'s objects')
  t.ok(grants('s3:GetObjectVersion', `\${aws_s3_bucket.${input}.arn}/`), 'at the S3 record\'s VersionId')
  t.ok(grants('s3:PutObject', `\${aws_s3_bucket.${output}.arn}/`), 'writes the output bucket\'s objects')
  t.notOk(statements.some((s) => stringList(s.actions, 'actions').some((a) => /Delete|Put/.test(a)) &&
    stringList(s.resources, 'resources').some((r) => r.startsWith(modelArn))), 'never writes or deletes the model')

  const [groupName] = onlyResource(config, 'aws_cloudwatch_log_group')
  const logs = statements.filter((s) => stringList(s.actions, 'actions').some((a) => a.startsWith('logs:')))
  t.ok(logs.length > 0, 'writes logs')
  for (const statement of logs) {
    t.same(stringList(statement.actions, 'actions').sort(), ['logs:CreateLogStream', 'logs:PutLogEvents'])
    for (const resource of stringList(statement.resources, 'resources')) {
      t.ok(resource.startsWith(`\${aws_cloudwatch_log_group.${groupName}.arn}:`), 'only in its own log group')
    }
  }

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
    .filter((s) => stringList(s.resources, 'resources').some((r) => r.startsWith(resourcePrefix)))
    .flatMap((s) => stringList(s.actions, 'actions')))

  const environment = await functionEnvironment(config, fn)
  const model = resourceNames(await references(environment.MODEL_BUCKET), 'aws_s3_bucket')[0]
  const onBucket = new Set(statements
    .filter((s) => stringList(s.resources, 'resources').includes(`\${aws_s3_bucket.${model}.arn}`))
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
    for (const resource of stringList(statement.resources, 'resources')) {
      t.ok([`\${${FUNCTION}.arn}`, `\${${FUNCTION}.arn}:*`].includes(resource), `${resource}: this function, its versions and aliases only`)
    }
  }
  // Every statement is on the model bucket or the function: nothing else.
  for (const statement of statements) {
    for (const resource of stringList(statement.resources, 'resources')) {
      const refs = await deepReferences(config, resource)
      t.ok(refersTo(refs, `aws_s3_bucket.${model}`) || refersTo(refs, FUNCTION), `${resource} is the model bucket or the function`)
    }
  }
})
