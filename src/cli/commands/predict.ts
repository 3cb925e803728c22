import { readFile } from 'node:fs/promises'
import { defineCommand, optionalPositiveInteger, positionals, printResult, stringOption, type RawArguments } from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

export type PredictImage = { file: string } | { bucket: string, key: string, versionId?: string }

export interface PredictArgs {
  model: string
  image: PredictImage
  release?: number
  alias?: string
  topK?: number
}

export const predictCommand = defineCommand({
  name: 'predict',
  synopsis: '<model> (--file <image> | --s3 <bucket>/<key>[@<versionId>])',
  summary: 'classify one image with a release or alias, without moving anything',
  details: 'Without --release or --alias the model\'s deploy alias answers. A local file is sent inline (base64).',
  options: {
    file: { type: 'string', value: 'image', description: 'a local image file' },
    s3: { type: 'string', value: 'bucket/key[@versionId]', description: 'an image in S3, at a version if given' },
    release: { type: 'string', value: 'n', description: 'the release to try' },
    alias: { type: 'string', value: 'alias', description: 'the alias whose release answers' },
    'top-k': { type: 'string', value: 'k', description: 'how many predictions (the function\'s default: 5)' },
  },
  parse: (raw): PredictArgs => {
    const [model] = positionals(raw, ['model'])
    const release = optionalPositiveInteger(raw, 'release')
    const alias = stringOption(raw, 'alias')
    if (release !== undefined && alias !== undefined) throw new UsageError('give --release or --alias, not both')
    return { model: model!, image: imageOption(raw), release, alias, topK: optionalPositiveInteger(raw, 'top-k') }
  },
  run: async (context, { model, image, release, alias, topK }) => {
    const response = await context.client.send({
      method: 'POST',
      path: ['models', model, 'predict'],
      json: { image: await imageBody(image), release, alias, topK },
    })
    printResult(context, response, formatPrediction)
  },
})

function imageOption (raw: RawArguments): PredictImage {
  const file = stringOption(raw, 'file')
  const s3 = stringOption(raw, 's3')
  if (file !== undefined && s3 !== undefined) throw new UsageError('give --file or --s3, not both')
  if (file !== undefined) return { file }
  if (s3 === undefined) throw new UsageError('an image is required: --file <image> or --s3 <bucket>/<key>[@<versionId>]')
  return parseS3Image(s3)
}

/** `bucket/key/with/slashes@versionId`: the bucket ends at the first slash, a version starts at the last `@`. */
export function parseS3Image (text: string): PredictImage {
  const location = text.replace(/^s3:\/\//, '')
  const slash = location.indexOf('/')
  const at = location.lastIndexOf('@')
  const hasVersion = at > slash
  const bucket = location.slice(0, slash)
  const key = location.slice(slash + 1, hasVersion ? at : undefined)
  const versionId = hasVersion ? location.slice(at + 1) : undefined
  if (slash < 1 || key === '' || versionId === '') {
    throw new UsageError(`--s3 must be <bucket>/<key> or <bucket>/<key>@<versionId>, not ${JSON.stringify(text)}`)
  }
  return versionId === undefined ? { bucket, key } : { bucket, key, versionId }
}

async function imageBody (image: PredictImage) {
  if (!('file' in image)) return image
  const bytes = await readFile(image.file).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${image.file}: ${error.code ?? error.message}`)
  })
  return { base64: bytes.toString('base64') }
}

function formatPrediction (body: unknown): string {
  const result = asRecord(body) ?? {}
  const table = formatTable([
    { header: 'RANK', value: (p) => p.rank, align: 'right' },
    { header: 'LABEL', value: (p) => p.label },
    { header: 'SCORE', value: (p) => typeof p.score === 'number' ? p.score.toFixed(4) : p.score, align: 'right' },
    { header: 'INDEX', value: (p) => p.index, align: 'right' },
  ], recordsIn(result, 'predictions').map((p, i): Record<string, unknown> => ({ rank: i + 1, ...p })))
  const { predictions: _, ...rest } = result
  return table + '\n' + formatFields(rest)
}
