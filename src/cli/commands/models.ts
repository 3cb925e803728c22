import { readFile } from 'node:fs/promises'
import type { CreateModelBody, UpdateModelBody } from '../../client/admin-api.js'
import {
  booleanOption, defineCommand, ifMatchOption, positionals, printResult, stringListOption, stringOption, type CommandContext,
  type OptionSpec, type RawArguments,
} from '../command.js'
import { isPrewarm, MAX_PREWARM } from '../../contract/limits.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

async function listModels (context: CommandContext): Promise<void> {
  const response = await context.client.listModels()
  printResult(context, response, (body) => formatTable([
    { header: 'NAME', value: (m) => m.name },
    { header: 'BUCKET', value: (m) => m.bucket },
    { header: 'WEIGHTS KEY', value: (m) => m.weightsKey },
    { header: 'LABELS KEY', value: (m) => m.labelsKey },
    { header: 'FUNCTION', value: (m) => m.functionName === null ? '(registry only)' : m.functionName },
    { header: 'LAMBDA ALIAS', value: (m) => m.functionName === null ? null : m.functionAlias },
    { header: 'DEPLOY ALIAS', value: (m) => m.deployAlias },
  ], recordsIn(body, 'models')))
}

const formatModel = (body: unknown): string => formatFields(asRecord(body) ?? {})

export const modelsCommand = defineCommand({
  name: 'models',
  synopsis: '',
  summary: 'list the registered models',
  options: {},
  parse: (raw) => {
    positionals(raw, [])
    return {}
  },
  run: listModels,
})

// The fields of a model, as flags named after the API's fields (`weightsKey` is --weights-key).
const FIELD_OPTIONS = {
  bucket: { type: 'string', value: 'bucket', description: 'the versioned S3 bucket of the weights and labels' },
  'weights-key': { type: 'string', value: 'key', description: 'the S3 key of the ONNX weights' },
  'labels-key': { type: 'string', value: 'key', description: 'the S3 key of the labels' },
  'function-name': { type: 'string', value: 'name', description: 'the Lambda function the deploy alias drives (without it: registry-only)' },
  'function-alias': { type: 'string', value: 'alias', description: 'the function\'s Lambda alias (default live)' },
  'deploy-alias': { type: 'string', value: 'alias', description: 'the registry alias whose moves drive Lambda (default production)' },
  'gate-image': {
    type: 'string', multiple: true, value: 'bucket/key', description: 'an image each promotion first classifies; repeat for more',
  },
  prewarm: {
    type: 'string', value: 'N', description: `warm-up invocations of the target version before a move routes Lambda (0 to ${MAX_PREWARM}, default 1)`,
  },
} as const satisfies Record<string, OptionSpec>

const MODEL_OPTIONS = {
  ...FIELD_OPTIONS,
  'if-match': {
    type: 'string', value: 'version', description: 'update: only if the model is still at this version (its ETag); a stale one exits 4',
  },
  'registry-only': { type: 'boolean', description: 'update: detach the Lambda function (functionName null)' },
  'no-gate-images': { type: 'boolean', description: 'update: remove every gate image' },
  from: { type: 'string', value: 'file', description: 'create: start from a JSON body in a file (the flags win)' },
} as const satisfies Record<string, OptionSpec>

export type ModelArgs =
  | { model: string }
  | { action: 'list' }
  | { action: 'create', fields: Partial<CreateModelBody>, from?: string }
  | { action: 'update', model: string, changes: UpdateModelBody, ifMatch?: number }

export const modelCommand = defineCommand({
  name: 'model',
  synopsis: 'create <model> --bucket <b> --weights-key <k> --labels-key <k> | update <model> | list | get <model>',
  summary: 'register, update, list or show models (create and update need an admin token)',
  details: 'create: without --function-name the model is registry-only; --from reads a JSON body such as\n' +
    '  `terraform -chdir=infra output -json model_registration` (the model\'s name may come from it too).\n' +
    'update: changes only the fields given (bucket and keys only while the model has no release) and bumps the\n' +
    '  model\'s version; --if-match <version> refuses it if the model changed since that version.\n' +
    '`model <model>` is `model get <model>`; a model named like an action is shown with `model get`.',
  options: MODEL_OPTIONS,
  parse: (raw): ModelArgs => {
    const action = raw.positionals[0]
    if (action === 'create') return parseCreate(raw)
    if (action === 'update') return parseUpdate(raw)
    refuseFieldOptions(raw, action === 'list' ? 'list' : 'get')
    if (action === 'list') {
      positionals(raw, ['list'])
      return { action: 'list' }
    }
    const [model] = action === 'get' ? positionals(raw, ['get', 'model']).slice(1) : positionals(raw, ['model'])
    return { model: model! }
  },
  run: async (context, args) => {
    if (!('action' in args)) {
      printResult(context, await context.client.getModel(args.model), formatModel)
    } else if (args.action === 'list') {
      await listModels(context)
    } else if (args.action === 'create') {
      const body = await createBody(args.fields, args.from)
      printResult(context, await context.client.createModel(body), formatModel)
    } else {
      printResult(context, await context.client.updateModel(args.model, args.changes, args.ifMatch), formatModel)
    }
  },
})

function parseCreate (raw: RawArguments): ModelArgs {
  const [, model] = positionals(raw, ['create'], ['model'])
  for (const name of ['registry-only', 'no-gate-images'] as const) {
    if (booleanOption(raw, name)) throw new UsageError(`--${name} goes with model update, not model create`)
  }
  if (stringOption(raw, 'if-match') !== undefined) throw new UsageError('--if-match goes with model update, not model create')
  const from = stringOption(raw, 'from')
  const fields: Partial<CreateModelBody> = { ...(model === undefined ? {} : { name: model }), ...fieldValues(raw) }
  // with --from the file may supply what is missing; it is checked once read, still before anything is sent
  if (from === undefined) requireCreateFields(fields)
  return from === undefined ? { action: 'create', fields } : { action: 'create', fields, from }
}

function parseUpdate (raw: RawArguments): ModelArgs {
  const [, model] = positionals(raw, ['update', 'model'])
  if (stringOption(raw, 'from') !== undefined) throw new UsageError('--from goes with model create, not model update')
  const changes: UpdateModelBody = fieldValues(raw)
  if (booleanOption(raw, 'registry-only')) {
    if (changes.functionName !== undefined) throw new UsageError('give --function-name or --registry-only, not both')
    changes.functionName = null
  }
  if (booleanOption(raw, 'no-gate-images')) {
    if (changes.gateImages !== undefined) throw new UsageError('give --gate-image or --no-gate-images, not both')
    changes.gateImages = []
  }
  if (Object.keys(changes).length === 0) {
    throw new UsageError(`nothing to update: give at least one of ${Object.keys(FIELD_OPTIONS).map((name) => `--${name}`).join(', ')}, --registry-only, --no-gate-images`)
  }
  const ifMatch = ifMatchOption(raw)
  return ifMatch === undefined ? { action: 'update', model: model!, changes } : { action: 'update', model: model!, changes, ifMatch }
}

/** The model fields given as flags, under the API's names; absent flags are left out. */
function fieldValues (raw: RawArguments): UpdateModelBody {
  const fields: UpdateModelBody = {}
  const set = <K extends keyof UpdateModelBody>(field: K, value: UpdateModelBody[K] | undefined): void => {
    if (value !== undefined) fields[field] = value
  }
  set('bucket', stringOption(raw, 'bucket'))
  set('weightsKey', stringOption(raw, 'weights-key'))
  set('labelsKey', stringOption(raw, 'labels-key'))
  set('functionName', stringOption(raw, 'function-name'))
  set('functionAlias', stringOption(raw, 'function-alias'))
  set('deployAlias', stringOption(raw, 'deploy-alias'))
  const gateImages = stringListOption(raw, 'gate-image')
  if (gateImages.length > 0) fields.gateImages = gateImages.map(parseGateImage)
  const prewarm = stringOption(raw, 'prewarm')
  if (prewarm !== undefined) fields.prewarm = parsePrewarm(prewarm)
  return fields
}

function parsePrewarm (text: string): number {
  const count = /^[0-9]+$/.test(text) ? Number(text) : NaN
  if (!isPrewarm(count)) throw new UsageError(`--prewarm must be a whole number from 0 to ${MAX_PREWARM}, not ${JSON.stringify(text)}`)
  return count
}

function refuseFieldOptions (raw: RawArguments, action: string): void {
  const given = Object.keys(MODEL_OPTIONS).find((name) => raw.values[name] !== undefined)
  if (given === 'if-match') throw new UsageError(`--if-match goes with model update, not model ${action}`)
  if (given !== undefined) throw new UsageError(`--${given} goes with model create or update, not model ${action}`)
}

const REQUIRED_FOR_CREATE = [
  ['name', '<model>'], ['bucket', '--bucket'], ['weightsKey', '--weights-key'], ['labelsKey', '--labels-key'],
] as const

function requireCreateFields (fields: Partial<CreateModelBody>): asserts fields is CreateModelBody {
  const missing = REQUIRED_FOR_CREATE.filter(([field]) => fields[field] === undefined).map(([, flag]) => flag)
  if (missing.length > 0) throw new UsageError(`model create needs ${missing.join(', ')}`, 'model')
}

/** `bucket/key`: the bucket ends at the first slash (an `s3://` prefix is allowed). */
export function parseGateImage (text: string): { bucket: string, key: string } {
  const location = text.replace(/^s3:\/\//, '')
  const slash = location.indexOf('/')
  if (slash < 1 || slash === location.length - 1) {
    throw new UsageError(`--gate-image must be <bucket>/<key>, not ${JSON.stringify(text)}`)
  }
  return { bucket: location.slice(0, slash), key: location.slice(slash + 1) }
}

/** The body of a create: the --from file's fields, then the flags over them. */
async function createBody (fields: Partial<CreateModelBody>, from: string | undefined): Promise<CreateModelBody> {
  if (from === undefined) {
    requireCreateFields(fields)
    return fields
  }
  const text = await readFile(from, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${from}: ${error.code ?? error.message}`, 'model')
  })
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new UsageError(`${from} is not JSON`, 'model')
  }
  const fromFile = asRecord(parsed)
  if (fromFile === undefined) throw new UsageError(`${from} must hold a JSON object (the body of POST /v1/models)`, 'model')
  // the API checks every field of the file; here only that the merged body names what a model needs
  const body = { ...fromFile, ...fields } as Partial<CreateModelBody>
  requireCreateFields(body)
  return body
}
