import t from 'tap'
import { OPTIMIZED_GRAPH_PREFIX } from '../src/inference/optimized-graph.js'
import {
  blocks, bucketsCoveredBy, deepReferences, functionEnvironment, loadTerraform, onlyResource, policyDocumentName,
  policyStatements, references, refersTo, resourceNames, resourcesOf, soleExpression, stringList,
} from './helpers/hcl.js'

const config = await loadTerraform()
const buckets = resourcesOf(config, 'aws_s3_bucket').map(([name]) => name)

/** The bucket the function's MODEL_BUCKET variable names: the model bucket, read from the files. */
async function modelBucket (): Promise<string> {
  const [, fn] = onlyResource(config, 'aws_lambda_function')
  const environment = await functionEnvironment(config, fn)
  const [name] = resourceNames(await references(environment.MODEL_BUCKET), 'aws_s3_bucket')
  if (name !== undefined) return name
  throw new Error('MODEL_BUCKET does not name an aws_s3_bucket')
}

t.test('there are three buckets (input, model, output), each named from the prefix variable', async (t) => {
  t.equal(buckets.length, 3)
  for (const name of buckets) {
    const bucket = config.resources.aws_s3_bucket?.[name] ?? {}
    t.equal(bucket.bucket_prefix, undefined, `${name} has a fixed name`)
    t.ok(refersTo(await deepReferences(config, bucket.bucket), 'var.prefix'), `${name}'s name comes from var.prefix`)
    t.not(bucket.force_destroy, true, `${name} is not force-destroyed with its objects`)
  }
  const names = await Promise.all(buckets.map((name) => config.resources.aws_s3_bucket?.[name]?.bucket))
  t.equal(new Set(names).size, 3, 'three distinct names')

  const prefix = config.variables.prefix
  t.ok(prefix, 'variable prefix exists')
  t.equal(prefix?.default, undefined, 'prefix has no default: bucket names are global, so the user picks one')

  // Other named resources come from the prefix too, so two deployments do not collide.
  for (const [type, attribute] of [['aws_lambda_function', 'function_name'], ['aws_ecr_repository', 'name'], ['aws_iam_role', 'name']] as const) {
    for (const [name, body] of resourcesOf(config, type)) {
      t.ok(refersTo(await deepReferences(config, body[attribute]), 'var.prefix'), `${type}.${name}.${attribute} comes from var.prefix`)
    }
  }
})

t.test('public access is blocked on all three buckets', async (t) => {
  const covered = await bucketsCoveredBy(config, 'aws_s3_bucket_public_access_block')
  for (const name of buckets) {
    const settings = covered.get(name)
    t.ok(settings, `bucket ${name} has a public access block`)
    for (const flag of ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets']) {
      t.equal(settings?.[flag], true, `${name}: ${flag}`)
    }
  }
  const ownership = await bucketsCoveredBy(config, 'aws_s3_bucket_ownership_controls')
  for (const name of buckets) {
    const rule = blocks(ownership.get(name)?.rule)[0]
    t.equal(rule?.object_ownership, 'BucketOwnerEnforced', `${name}: ACLs disabled`)
  }
})

t.test('server-side encryption is configured on all three buckets', async (t) => {
  const covered = await bucketsCoveredBy(config, 'aws_s3_bucket_server_side_encryption_configuration')
  for (const name of buckets) {
    const rules = blocks(covered.get(name)?.rule)
    const algorithms = rules.flatMap((rule) => blocks(rule.apply_server_side_encryption_by_default))
      .map((d) => d.sse_algorithm)
    t.ok(algorithms.length > 0, `${name} has a default encryption rule`)
    for (const algorithm of algorithms) t.ok(['AES256', 'aws:kms', 'aws:kms:dsse'].includes(String(algorithm)), `${name}: ${algorithm}`)
  }
})

t.test('the model bucket is versioned and nothing expires its noncurrent versions', async (t) => {
  const model = await modelBucket()
  const versioning = await bucketsCoveredBy(config, 'aws_s3_bucket_versioning')
  const status = blocks(versioning.get(model)?.versioning_configuration)[0]?.status
  t.equal(status, 'Enabled', `${model} has versioning Enabled`)

  const lifecycle = await bucketsCoveredBy(config, 'aws_s3_bucket_lifecycle_configuration')
  for (const rule of blocks(lifecycle.get(model)?.rule)) {
    t.same(blocks(rule.expiration), [], `rule ${rule.id} never expires current versions`)
    const prefix = blocks(rule.filter)[0]?.prefix
    if (blocks(rule.noncurrent_version_expiration).length === 0) continue
    // Replaced derived graphs (src/inference/optimized-graph.ts) are the only versions that may expire: the
    // function rewrites one whenever it cannot use it, and a graph is never a rollback target.
    t.equal(prefix, OPTIMIZED_GRAPH_PREFIX, `rule ${rule.id} expires noncurrent versions under ${OPTIMIZED_GRAPH_PREFIX} only`)
  }
})

t.test('a bucket policy denies deleting versions or suspending versioning to all but break-glass principals', async (t) => {
  const model = await modelBucket()
  const policies = await bucketsCoveredBy(config, 'aws_s3_bucket_policy')
  const policy = policies.get(model)
  t.ok(policy, `${model} has a bucket policy`)
  if (policy === undefined) return
  const statements = await policyStatements(config, policyDocumentName(policy.policy, 'model bucket policy'))

  const protecting = statements.filter((s) => s.effect === 'Deny' &&
    stringList(s.actions, 'actions').includes('s3:DeleteObjectVersion'))
  t.equal(protecting.length, 1, 'one Deny statement on s3:DeleteObjectVersion')
  const statement = protecting[0]
  if (statement === undefined) return
  const actions = stringList(statement.actions, 'actions')
  t.ok(actions.includes('s3:PutBucketVersioning'), 'versioning cannot be suspended')
  t.ok(actions.includes('s3:PutLifecycleConfiguration'), 'no one can add an expiration rule')

  // It applies to everyone...
  const principals = blocks(statement.principals)
  t.ok(principals.some((p) => p.type === '*' && JSON.stringify(p.identifiers) === '["*"]'), 'applies to every principal')
  // ...on the bucket and every object of it...
  const resources = stringList(statement.resources, 'resources')
  t.ok(resources.some((r) => soleExpression(r) === `aws_s3_bucket.${model}.arn`), 'covers the bucket')
  t.ok(resources.some((r) => r === `\${aws_s3_bucket.${model}.arn}/*`), 'covers every object')
  // ...except the break-glass principals, given by a variable.
  const exceptions = blocks(statement.condition).filter((c) => /Not/.test(String(c.test)) && c.variable === 'aws:PrincipalArn')
  t.equal(exceptions.length, 1, 'an aws:PrincipalArn exception')
  const exceptionRefs = await deepReferences(config, exceptions[0]?.values)
  const breakGlass = exceptionRefs.find((r) => r.startsWith('var.'))
  t.ok(breakGlass, 'the exception list comes from a variable')
  const variable = config.variables[breakGlass?.slice(4) ?? '']
  t.match(String(variable?.type), /list\(string\)/, `${breakGlass} is a list of ARNs`)

  // The policy lands after versioning is on, or it would forbid turning it on.
  const dependsOn = await references(policy.depends_on)
  t.ok(resourcesOf(config, 'aws_s3_bucket_versioning').some(([name]) => refersTo(dependsOn, `aws_s3_bucket_versioning.${name}`)),
    'the policy depends on the versioning resource')
})

t.test('every bucket refuses plain HTTP: its policy denies any request without TLS', async (t) => {
  const policies = await bucketsCoveredBy(config, 'aws_s3_bucket_policy')
  for (const name of buckets) {
    const policy = policies.get(name)
    t.ok(policy, `${name} has a bucket policy`)
    if (policy === undefined) continue
    const statements = await policyStatements(config, policyDocumentName(policy.policy, `${name} bucket policy`))
    const tlsOnly = statements.filter((s) => s.effect === 'Deny' && blocks(s.condition).some((c) =>
      c.test === 'Bool' && c.variable === 'aws:SecureTransport' && JSON.stringify(c.values) === '["false"]'))
    t.equal(tlsOnly.length, 1, `${name}: one Deny on aws:SecureTransport false`)
    const statement = tlsOnly[0] ?? {}
    t.same(stringList(statement.actions, 'actions'), ['s3:*'], `${name}: every action`)
    t.ok(blocks(statement.principals).some((p) => p.type === '*' && JSON.stringify(p.identifiers) === '["*"]'), `${name}: everyone`)
    const resources = stringList(statement.resources, 'resources')
    t.ok(resources.includes(`\${aws_s3_bucket.${name}.arn}`), `${name}: the bucket`)
    t.ok(resources.includes(`\${aws_s3_bucket.${name}.arn}/*`), `${name}: and its objects`)
    // S3 refuses a bucket policy written while the public access block is being changed.
    t.ok(refersTo(await references(policy.depends_on), 'aws_s3_bucket_public_access_block'), `${name}: after the public access block`)
  }
})
