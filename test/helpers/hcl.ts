import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { getReferencesInExpression, parse } from '@cdktf/hcl2json'

/**
 * Terraform read without Terraform: every `.tf` file of a folder parsed with @cdktf/hcl2json (HashiCorp's HCL
 * parser compiled to WASM) and merged into one structure, plus textual reference resolution (`aws_lambda_alias.
 * live.arn`, `local.x`, `each.value`) so tests can check what the files say without re-stating it.
 */

export type HclValue = string | number | boolean | null | HclValue[] | { [key: string]: HclValue }
export type HclBlock = { [key: string]: HclValue }

export interface TerraformConfig {
  dir: string
  /** the `.tf` files read, by name */
  files: string[]
  /** `terraform { }` blocks */
  terraform: HclBlock[]
  /** provider name to its configuration blocks */
  providers: Record<string, HclBlock[]>
  variables: Record<string, HclBlock>
  outputs: Record<string, HclBlock>
  locals: Record<string, HclValue>
  /** resource type to name to body */
  resources: Record<string, Record<string, HclBlock>>
  /** data source type to name to body */
  data: Record<string, Record<string, HclBlock>>
  modules: Record<string, HclBlock>
  /** `resource.aws_s3_bucket.model`, `variable.prefix`, `local.x`... to the file it is declared in */
  origin: Record<string, string>
}

/** infra/, or another copy of it (MODELPIN_INFRA_DIR) to check that the tests fail on a broken configuration. */
export const INFRA_DIR = process.env.MODELPIN_INFRA_DIR ?? fileURLToPath(new URL('../../infra/', import.meta.url))

/** Parses one file; a syntax error rejects with the parser's message, which names the file and position. */
export async function parseTerraformFile (filename: string, contents: string): Promise<Record<string, HclValue>> {
  const parsed = await parse(filename, contents)
  return parsed as Record<string, HclValue>
}

/** Reads and merges every `.tf` file of `dir`; rejects on a syntax error or on a name declared twice. */
export async function loadTerraform (dir: string = INFRA_DIR): Promise<TerraformConfig> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.tf')).sort()
  const config: TerraformConfig = {
    dir,
    files,
    terraform: [],
    providers: {},
    variables: {},
    outputs: {},
    locals: {},
    resources: {},
    data: {},
    modules: {},
    origin: {},
  }
  for (const file of files) {
    const parsed = await parseTerraformFile(file, await readFile(join(dir, file), 'utf8'))
    mergeFile(config, file, parsed)
  }
  return config
}

function mergeFile (config: TerraformConfig, file: string, parsed: Record<string, HclValue>): void {
  const declare = (address: string): void => {
    const previous = config.origin[address]
    if (previous !== undefined) throw new Error(`${address} is declared in both ${previous} and ${file}`)
    config.origin[address] = file
  }
  const single = (address: string, value: HclValue | undefined): HclBlock => {
    if (!Array.isArray(value) || value.length !== 1 || !isObject(value[0])) {
      throw new Error(`${address} in ${file} is not one block`)
    }
    return value[0]
  }
  for (const [kind, value] of Object.entries(parsed)) {
    switch (kind) {
      case 'terraform':
        config.terraform.push(...blocks(value))
        break
      case 'provider':
        for (const [name, body] of Object.entries(objectOf(value))) {
          (config.providers[name] ??= []).push(...blocks(body))
        }
        break
      case 'variable':
      case 'output':
      case 'module':
        for (const [name, body] of Object.entries(objectOf(value))) {
          declare(`${kind}.${name}`)
          const target = kind === 'variable' ? config.variables : kind === 'output' ? config.outputs : config.modules
          target[name] = single(`${kind}.${name}`, body)
        }
        break
      case 'locals':
        for (const block of blocks(value)) {
          for (const [name, local] of Object.entries(block)) {
            declare(`local.${name}`)
            config.locals[name] = local
          }
        }
        break
      case 'resource':
      case 'data':
        for (const [type, named] of Object.entries(objectOf(value))) {
          for (const [name, body] of Object.entries(objectOf(named))) {
            declare(`${kind}.${type}.${name}`)
            const byType = kind === 'resource' ? config.resources : config.data
            ;(byType[type] ??= {})[name] = single(`${kind}.${type}.${name}`, body)
          }
        }
        break
      default:
        throw new Error(`${file}: unexpected top-level ${kind}`)
    }
  }
}

export function isObject (value: HclValue | undefined): value is { [key: string]: HclValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function objectOf (value: HclValue): { [key: string]: HclValue } {
  if (!isObject(value)) throw new Error(`expected an object, got ${JSON.stringify(value)}`)
  return value
}

/** The blocks of a nested block attribute (`environment { }` parses to an array of objects); [] when absent. */
export function blocks (value: HclValue | undefined): HclBlock[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) throw new Error(`expected blocks, got ${JSON.stringify(value)}`)
  return value.map((block) => objectOf(block))
}

/** The only block of a nested block attribute; throws when there is not exactly one. */
export function block (value: HclValue | undefined, what: string): HclBlock {
  const all = blocks(value)
  if (all.length !== 1 || all[0] === undefined) throw new Error(`${what}: expected one block, got ${all.length}`)
  return all[0]
}

export function resource (config: TerraformConfig, type: string, name: string): HclBlock {
  const body = config.resources[type]?.[name]
  if (body === undefined) throw new Error(`resource ${type}.${name} is not declared`)
  return body
}

export function resourcesOf (config: TerraformConfig, type: string): Array<[string, HclBlock]> {
  return Object.entries(config.resources[type] ?? {})
}

export function dataSource (config: TerraformConfig, type: string, name: string): HclBlock {
  const body = config.data[type]?.[name]
  if (body === undefined) throw new Error(`data ${type}.${name} is not declared`)
  return body
}

/**
 * The inside of an expression that is one interpolation and nothing else (`"${var.x}"` gives `var.x`), undefined
 * for a literal or a template with text around its interpolations (`"${a}/${b}"`).
 */
export function soleExpression (value: HclValue | undefined): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('${') || !value.endsWith('}')) return undefined
  let depth = 0
  for (let i = 1; i < value.length; i++) {
    if (value[i] === '{') depth++
    else if (value[i] === '}' && --depth === 0) return i === value.length - 1 ? value.slice(2, -1).trim() : undefined
  }
  return undefined
}

/**
 * Every reference in a value (walking arrays and objects), as Terraform traversals without index steps:
 * `aws_cloudwatch_event_rule.warmup[0].arn` gives `aws_cloudwatch_event_rule.warmup.arn`.
 */
export async function references (value: HclValue | undefined): Promise<string[]> {
  if (typeof value === 'string') {
    if (!value.includes('${')) return []
    const found = await getReferencesInExpression('reference.tf', value)
    return found.map((reference) => reference.value.split('.').filter((step) => !/^\d+$/.test(step)).join('.'))
  }
  if (Array.isArray(value)) return (await Promise.all(value.map(references))).flat()
  if (isObject(value)) return (await Promise.all(Object.values(value).map(references))).flat()
  return []
}

/**
 * The references of a value with every `local.x` followed to the references of its value (the `local.x` itself
 * stays in the list), so "refers to the alias" holds whether the alias is named directly or through a local.
 */
export async function deepReferences (config: TerraformConfig, value: HclValue | undefined): Promise<string[]> {
  const seen = new Set<string>()
  const result: string[] = []
  const visit = async (v: HclValue | undefined): Promise<void> => {
    for (const reference of await references(v)) {
      result.push(reference)
      const [head, name] = reference.split('.')
      if (head === 'local' && name !== undefined && !seen.has(name)) {
        seen.add(name)
        if (!(name in config.locals)) throw new Error(`local.${name} is referenced but not declared`)
        await visit(config.locals[name])
      }
    }
  }
  await visit(value)
  return result
}

/** Whether `refs` contains `target` itself or an attribute of it (`aws_lambda_alias.live` matches `.arn`). */
export function refersTo (refs: string[], target: string): boolean {
  return refs.some((reference) => reference === target || reference.startsWith(`${target}.`))
}

/**
 * The names of the resources of `type` that `refs` point at: `resourceNames(['aws_s3_bucket.model.arn'],
 * 'aws_s3_bucket')` is `['model']`.
 */
export function resourceNames (refs: string[], type: string): string[] {
  const names = refs.filter((reference) => reference.startsWith(`${type}.`)).map((reference) => reference.split('.')[1] ?? '')
  return [...new Set(names)]
}

/** A `local.x` or a literal: the value behind it (following locals); undefined for anything else. */
export function localValue (config: TerraformConfig, value: HclValue | undefined): HclValue | undefined {
  const expression = soleExpression(value)
  if (expression === undefined) return value
  const match = /^local\.([A-Za-z0-9_-]+)$/.exec(expression)
  if (match?.[1] === undefined || !(match[1] in config.locals)) return undefined
  return localValue(config, config.locals[match[1]])
}

/**
 * The buckets (names of `aws_s3_bucket` resources) that each resource of `type` applies to, following
 * `for_each = local.map_of_bucket_ids` with `bucket = each.value` as well as a direct `bucket = aws_s3_bucket.x.id`.
 */
export async function bucketsCoveredBy (config: TerraformConfig, type: string): Promise<Map<string, HclBlock>> {
  const covered = new Map<string, HclBlock>()
  for (const [, body] of resourcesOf(config, type)) {
    const bucket = soleExpression(body.bucket)
    let buckets: string[]
    if (bucket !== undefined && /^each\.value(\.id|\.bucket)?$/.test(bucket)) {
      const collection = localValue(config, body.for_each)
      const members = isObject(collection) ? Object.values(collection) : Array.isArray(collection) ? collection : []
      buckets = resourceNames(await deepReferences(config, members), 'aws_s3_bucket')
    } else {
      buckets = resourceNames(await references(body.bucket), 'aws_s3_bucket')
    }
    for (const name of buckets) covered.set(name, body)
  }
  return covered
}

/** The statements of one `aws_iam_policy_document`, including `dynamic "statement"` content and source documents. */
export async function policyStatements (config: TerraformConfig, documentName: string): Promise<HclBlock[]> {
  const document = dataSource(config, 'aws_iam_policy_document', documentName)
  const statements = [...blocks(document.statement)]
  const dynamic = isObject(document.dynamic) ? document.dynamic : {}
  for (const generator of blocks(dynamic.statement)) statements.push(...blocks(generator.content))
  for (const key of ['source_policy_documents', 'override_policy_documents', 'source_json', 'override_json']) {
    if (document[key] === undefined) continue
    const sources = await references(document[key])
    const names = sources.map((reference) => /^data\.aws_iam_policy_document\.([^.]+)\.json$/.exec(reference)?.[1])
    if (sources.length === 0 || names.some((name) => name === undefined)) {
      throw new Error(`aws_iam_policy_document.${documentName}.${key} is not made of policy document data sources`)
    }
    for (const name of names) statements.push(...await policyStatements(config, name ?? ''))
  }
  return statements
}

/** The policy document data source a `policy` or `assume_role_policy` argument names; throws for anything else. */
export function policyDocumentName (value: HclValue | undefined, what: string): string {
  const match = /^data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json$/.exec(soleExpression(value) ?? '')
  if (match?.[1] === undefined) {
    throw new Error(`${what} is ${JSON.stringify(value)}, not data.aws_iam_policy_document.<name>.json`)
  }
  return match[1]
}

/** A list attribute of a statement as strings (a literal list of strings); throws when it is an expression. */
export function stringList (value: HclValue | undefined, what: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new Error(`${what} is ${JSON.stringify(value)}, not a literal list`)
  }
  return value as string[]
}

/** The `lifecycle { ignore_changes }` of a resource, as attribute names. */
export function ignoredChanges (body: HclBlock): string[] {
  return blocks(body.lifecycle).flatMap((lifecycle) => {
    const ignored = lifecycle.ignore_changes
    if (!Array.isArray(ignored)) return []
    return ignored.map((item) => (typeof item === 'string' ? soleExpression(item) ?? item : JSON.stringify(item)))
  })
}

/** The one resource of `type` as `[name, body]`; throws when there are none or several. */
export function onlyResource (config: TerraformConfig, type: string): [string, HclBlock] {
  const all = resourcesOf(config, type)
  if (all.length !== 1 || all[0] === undefined) throw new Error(`expected one ${type}, found ${all.length}`)
  return all[0]
}

/**
 * A function's environment variables as one object: a literal map, or the locals and literal maps its `variables`
 * expression merges (`merge(var.extra, local.pins)`); maps behind variables are not known here and left out.
 */
export async function functionEnvironment (config: TerraformConfig, fn: HclBlock): Promise<Record<string, HclValue>> {
  const variables = block(fn.environment, 'function environment').variables
  if (isObject(variables)) return variables
  const merged: Record<string, HclValue> = {}
  for (const reference of await references(variables)) {
    const value = reference.startsWith('local.') ? localValue(config, `\${${reference}}`) : undefined
    if (isObject(value)) Object.assign(merged, value)
  }
  return merged
}
