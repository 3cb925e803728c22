import t from 'tap'
import {
  block, blocks, isObject, loadTerraform, onlyResource, references, refersTo, soleExpression,
} from './helpers/hcl.js'

const config = await loadTerraform()
const [repositoryName, repository] = onlyResource(config, 'aws_ecr_repository')
const [, fn] = onlyResource(config, 'aws_lambda_function')

/** The regular expression inside a variable's `can(regex("...", var.x))` validation, as a JavaScript RegExp. */
function validationPattern (variable: string): RegExp {
  const conditions = blocks(config.variables[variable]?.validation).map((v) => String(v.condition))
  for (const condition of conditions) {
    const match = /regex\("((?:[^"\\]|\\.)*)", var\.[a-z_]+\)/.exec(condition)
    // HCL string escapes: `\\.` in the file is `\.` in the pattern.
    if (match?.[1] !== undefined) return new RegExp(match[1].replace(/\\\\/g, '\\'))
  }
  throw new Error(`variable ${variable} has no regex validation`)
}

t.test('the repository\'s tags are immutable and it keeps its images from accidental deletion', async (t) => {
  t.equal(repository.image_tag_mutability, 'IMMUTABLE', 'a pushed tag can never point at another image')
  t.not(repository.force_delete, true)
  t.equal(block(repository.image_scanning_configuration, 'scanning').scan_on_push, true)
})

t.test('a lifecycle policy expires untagged images and keeps the newest ones, a number set by a variable', async (t) => {
  const [, lifecycle] = onlyResource(config, 'aws_ecr_lifecycle_policy')
  t.ok(refersTo(await references(lifecycle.repository), `aws_ecr_repository.${repositoryName}`), 'on the function\'s repository')
  const policy = /^jsonencode\(local\.([a-z_]+)\)$/.exec(soleExpression(lifecycle.policy) ?? '')?.[1]
  t.ok(policy, 'the policy is a local, encoded')
  const document = config.locals[policy ?? '']
  const rules = isObject(document) && Array.isArray(document.rules) ? document.rules.filter(isObject) : []
  t.ok(rules.length >= 2)
  const priorities = rules.map((rule) => Number(rule.rulePriority))
  t.equal(new Set(priorities).size, rules.length, 'distinct priorities')

  const selection = (rule: (typeof rules)[number]): Record<string, unknown> => (isObject(rule.selection) ? rule.selection : {})
  for (const rule of rules) t.same(rule.action, { type: 'expire' })
  const untagged = rules.find((rule) => selection(rule).tagStatus === 'untagged')
  t.equal(selection(untagged ?? {}).countType, 'sinceImagePushed', 'untagged images expire by age')
  const kept = rules.find((rule) => selection(rule).countType === 'imageCountMoreThan')
  t.ok(kept, 'tagged images expire only beyond a count (a rollback needs the image of an older version)')
  t.equal(soleExpression(selection(kept ?? {}).countNumber as string), 'var.ecr_images_kept')
  t.ok(Number(config.variables.ecr_images_kept?.default) >= 10, 'a generous default')
  // tagStatus "any" must come last (ECR's rule), so it may not shadow the untagged rule.
  const any = rules.filter((rule) => selection(rule).tagStatus === 'any').map((rule) => Number(rule.rulePriority))
  for (const priority of any) t.equal(priority, Math.max(...priorities), 'a tagStatus "any" rule has the highest priority number')
})

t.test('the function takes its image by digest from a variable that accepts nothing else', async (t) => {
  t.equal(soleExpression(fn.image_uri), 'var.image_uri', 'the function\'s image_uri is the variable itself')
  const pattern = validationPattern('image_uri')
  const digest = 'a'.repeat(64)
  for (const good of [
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelpin-inference@sha256:${digest}`,
    `123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/modelpin@sha256:${digest}`,
  ]) t.match(good, pattern, `accepts ${good}`)
  for (const bad of [
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/modelpin-inference:latest',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com/modelpin-inference:v1',
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelpin-inference@sha256:${'A'.repeat(64)}`,
    `123456789012.dkr.ecr.us-east-1.amazonaws.com/modelpin-inference@sha256:${digest.slice(1)}`,
    `docker.io/library/node@sha256:${digest}`,
  ]) t.notMatch(bad, pattern, `refuses ${bad}`)
  t.match(blocks(config.variables.image_uri?.validation).map((v) => String(v.condition)).join('\n'), /@sha256:/)
  t.equal(config.variables.image_tag, undefined, 'no tag variable: a tag never reaches the function')

  // Empty is allowed only so the first -target apply can run before an image exists; the function refuses it.
  const preconditions = blocks(fn.lifecycle).flatMap((l) => blocks(l.precondition))
  t.ok(preconditions.some((p) => /var\.image_uri\s*!=\s*""/.test(String(p.condition))), 'a precondition refuses an empty image_uri')
})
