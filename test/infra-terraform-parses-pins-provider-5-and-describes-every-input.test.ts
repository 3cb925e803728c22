import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  INFRA_DIR, isObject, loadTerraform, onlyResource, parseTerraformFile, references, refersTo,
  resourcesOf, soleExpression,
} from './helpers/hcl.js'

const config = await loadTerraform()

t.test('every .tf file in infra/ parses, split by concern', async (t) => {
  for (const file of ['versions.tf', 'variables.tf', 's3.tf', 'ecr.tf', 'lambda.tf', 'iam.tf', 'events.tf', 'failures.tf', 'outputs.tf']) {
    t.ok(config.files.includes(file), `infra/${file} exists`)
  }
  t.ok(Object.keys(config.resources).length > 0, 'resources were read')
})

t.test('a syntax error in a .tf file makes the parse fail, naming the file', async (t) => {
  await t.rejects(parseTerraformFile('broken.tf', 'resource "aws_s3_bucket" "x" {\n  bucket = \n}\n'), /broken\.tf/)
  await t.rejects(parseTerraformFile('broken.tf', 'variable "x" {\n  description = "unterminated\n}\n'))

  // The real files with one closing brace removed: the whole load must fail, not skip the file.
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-infra-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(INFRA_DIR, dir, { recursive: true })
  const lambda = await readFile(join(dir, 'lambda.tf'), 'utf8')
  const lastBrace = lambda.lastIndexOf('}')
  t.ok(lastBrace > 0, 'lambda.tf has a closing brace to remove')
  await writeFile(join(dir, 'lambda.tf'), lambda.slice(0, lastBrace) + lambda.slice(lastBrace + 1))
  await t.rejects(loadTerraform(dir), /lambda\.tf/)
})

t.test('a name declared in two files is refused, as Terraform would', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-infra-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await cp(INFRA_DIR, dir, { recursive: true })
  await writeFile(join(dir, 'zz-duplicate.tf'), 'resource "aws_s3_bucket" "model" {\n  bucket = "x"\n}\n')
  await t.rejects(loadTerraform(dir), /aws_s3_bucket\.model is declared in both s3\.tf and zz-duplicate\.tf/)
})

t.test('the AWS provider is pinned to 5.x and Terraform has a minimum version', async (t) => {
  const requiredVersions = config.terraform.map((block) => block.required_version).filter((v) => v !== undefined)
  t.equal(requiredVersions.length, 1, 'one required_version')
  t.match(String(requiredVersions[0]), /^>=\s*1\.\d+(\.\d+)?$/)

  const providers = config.terraform.flatMap((block) => (Array.isArray(block.required_providers) ? block.required_providers : []))
  const aws = providers.map((p) => (isObject(p) ? p.aws : undefined)).find((p) => p !== undefined)
  t.ok(isObject(aws), 'required_providers declares aws')
  if (!isObject(aws)) return
  t.equal(aws.source, 'hashicorp/aws')
  // `~> 5.N` allows 5.N and later 5.x, never 6.0.
  t.match(String(aws.version), /^~>\s*5\.\d+$/)

  const provider = config.providers.aws?.[0]
  t.ok(provider, 'a provider "aws" block exists')
  t.ok(refersTo(await references(provider?.region), 'var.region'), 'the provider region is a variable')
})

t.test('every variable has a type and a description; every output a description', async (t) => {
  const variables = Object.entries(config.variables)
  t.ok(variables.length >= 10, `${variables.length} variables`)
  for (const [name, variable] of variables) {
    t.ok(typeof variable.description === 'string' && variable.description.trim().length >= 20,
      `variable ${name} is described`)
    t.ok(typeof variable.type === 'string' && variable.type.length > 0, `variable ${name} has a type`)
  }
  const outputs = Object.entries(config.outputs)
  t.ok(outputs.length > 0)
  for (const [name, output] of outputs) {
    t.ok(typeof output.description === 'string' && output.description.trim().length >= 10, `output ${name} is described`)
  }
})

t.test('the variables that can be wrong in a harmful way are validated', async (t) => {
  // Each named variable must have a validation whose condition reads that variable.
  for (const name of ['prefix', 'memory_size', 'timeout', 'provisioned_concurrency', 'model_weights_sha256',
    'model_labels_sha256', 'log_retention_days', 'admin_api_principal_arns', 'image_uri', 'ecr_images_kept',
    'evaluation_input_buckets', 'alarm_actions']) {
    const variable = config.variables[name]
    t.ok(variable, `variable ${name} exists`)
    const conditions = (Array.isArray(variable?.validation) ? variable.validation : [])
      .map((v) => (isObject(v) ? v.condition : undefined))
    const readsItself = await Promise.all(conditions.map(async (c) => refersTo(await references(c), `var.${name}`)))
    t.ok(readsItself.includes(true), `variable ${name} has a validation on its own value`)
  }
})

t.test('the outputs give the admin API and the CLI every name and ARN they need', async (t) => {
  const outputRefs = await Promise.all(Object.values(config.outputs).map((output) => references(output.value)))
  const exported = (target: string): boolean => outputRefs.some((refs) => refersTo(refs, target))
  const buckets = resourcesOf(config, 'aws_s3_bucket')
  t.equal(buckets.length, 3, 'three buckets')
  for (const [name] of buckets) {
    t.ok(exported(`aws_s3_bucket.${name}.bucket`) || exported(`aws_s3_bucket.${name}.id`), `bucket ${name} is an output`)
  }
  const [fn] = onlyResource(config, 'aws_lambda_function')
  const [alias] = onlyResource(config, 'aws_lambda_alias')
  const [repository] = onlyResource(config, 'aws_ecr_repository')
  const adminRole = resourcesOf(config, 'aws_iam_role').find(([name]) => name.includes('admin'))?.[0]
  t.ok(adminRole, 'an admin API role exists')
  for (const target of [
    `aws_lambda_function.${fn}.function_name`, `aws_lambda_function.${fn}.arn`,
    `aws_lambda_alias.${alias}.name`, `aws_lambda_alias.${alias}.arn`,
    `aws_ecr_repository.${repository}.repository_url`, `aws_iam_role.${adminRole}.arn`, 'var.region',
  ]) {
    t.ok(exported(target), `${target} is an output`)
  }
})

t.test('the README documents the deployment with resource addresses and outputs that exist', async (t) => {
  const readme = await readFile(join(INFRA_DIR, 'README.md'), 'utf8')
  t.match(readme, /^## Deploy to AWS$/m)
  t.match(readme, /docker build [^\n]*-f lambda\/Dockerfile[^\n]* \.\n/, 'builds lambda/Dockerfile from the repository root')
  t.match(readme, /npm ci && npm run build:lambda/)

  const targets = [...readme.matchAll(/-target=([a-z0-9_]+)\.([a-z0-9_]+)/g)]
  t.ok(targets.length > 0, 'the first apply is a documented two-step -target apply')
  for (const [, type, name] of targets) t.ok(config.resources[type ?? '']?.[name ?? ''], `-target=${type}.${name} exists`)
  t.ok(targets.some(([, type]) => type === 'aws_ecr_repository'), 'the first step creates the ECR repository')

  const outputs = [...readme.matchAll(/output -(?:raw|json) ([a-z0-9_]+)/g)].map((m) => m[1] ?? '')
  t.ok(outputs.length > 0)
  for (const name of outputs) t.ok(config.outputs[name], `output ${name} used by the README exists`)

  // The variables the README passes with -var exist too.
  for (const [, name] of readme.matchAll(/-var "?([a-z0-9_]+)=/g)) t.ok(config.variables[name ?? ''], `variable ${name} exists`)
  for (const variable of ['AWS_REGION', 'DATABASE_URL']) t.match(readme, new RegExp(`export ${variable}=`))
})

t.test('the function image is the image_uri variable, by digest, and the README resolves it after the push', async (t) => {
  const [, fn] = onlyResource(config, 'aws_lambda_function')
  t.equal(soleExpression(fn.image_uri), 'var.image_uri')
  const readme = await readFile(join(INFRA_DIR, 'README.md'), 'utf8')
  // The push is followed by reading the pushed image's digest back from ECR, and the apply passes repository@digest.
  t.match(readme, /docker push "\$REPO:\$TAG"/, 'pushes an immutable, per-commit tag')
  t.match(readme, /TAG=\$\(git rev-parse/, 'the tag is the commit')
  t.match(readme, /aws ecr describe-images [^\n]*--image-ids imageTag="\$TAG"[^\n]*imageDigest/, 'reads the digest of that tag from ECR')
  t.match(readme, /IMAGE_URI="\$REPO@\$DIGEST"/, 'the image by digest')
  t.match(readme, /-var "image_uri=\$IMAGE_URI"/, 'passed to the apply')
  t.notMatch(readme, /:latest/, 'no :latest anywhere')
})

t.test('an example remote state backend with locking is in infra/ and the README says how to use it', async (t) => {
  const example = await readFile(join(INFRA_DIR, 'backend.tf.example'), 'utf8')
  const parsed = await parseTerraformFile('backend.tf.example', example)
  const terraform = Array.isArray(parsed.terraform) ? parsed.terraform.filter(isObject) : []
  const backend = terraform.map((block) => block.backend).find(isObject)
  const s3 = isObject(backend) && Array.isArray(backend.s3) ? backend.s3.find(isObject) : undefined
  t.ok(s3, 'a backend "s3" block')
  t.type(s3?.bucket, 'string')
  t.match(String(s3?.key), /\.tfstate$/)
  t.equal(s3?.encrypt, true, 'state encrypted at rest')
  t.ok(s3?.use_lockfile === true || typeof s3?.dynamodb_table === 'string', 'with locking (use_lockfile or a DynamoDB table)')
  t.match(example, /dynamodb_table/, 'and says what to use on Terraform older than 1.10')
  // It is an example: Terraform never reads it by accident, so `init` works without a state bucket.
  t.notOk(config.files.some((file) => file.startsWith('backend')), 'no backend*.tf is loaded')

  const readme = await readFile(join(INFRA_DIR, 'README.md'), 'utf8')
  t.match(readme, /backend\.tf\.example/, 'the README names it')
  t.match(readme, /-migrate-state/, 'and how to move local state into it')
})
