import { UploadFileError } from '../../client/upload-body.js'
import {
  booleanOption, defineCommand, oneOf, optionalPositiveInteger, positionals, printResult, stringOption,
  type CommandContext,
} from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { UploadProgress } from '../progress.js'
import { formatBytes, formatFields, formatTable } from '../table.js'

export const ARTIFACT_KINDS = ['weights', 'labels'] as const
export type ArtifactKind = typeof ARTIFACT_KINDS[number]

const SHORT_SHA = 12

export const versionsCommand = defineCommand({
  name: 'versions',
  synopsis: '<model> <weights|labels>',
  summary: 'list the S3 versions of the weights or labels, newest first',
  details: 'With --all and --json the pages are merged into one body: {"versions": [...every page...], "nextCursor": null}.',
  options: {
    limit: { type: 'string', value: 'n', description: 'versions per page (the API\'s page size when not given)' },
    cursor: { type: 'string', value: 'cursor', description: 'start at this page (a nextCursor printed before)' },
    all: { type: 'boolean', description: 'follow nextCursor to the last page' },
  },
  parse: (raw) => {
    const [model, kind] = positionals(raw, ['model', 'kind'])
    return {
      model: model!,
      kind: oneOf(kind!, ARTIFACT_KINDS, '<kind>'),
      limit: optionalPositiveInteger(raw, 'limit'),
      cursor: stringOption(raw, 'cursor'),
      all: booleanOption(raw, 'all'),
    }
  },
  run: async (context, args) => {
    const request = (cursor: string | undefined) => context.client.send({
      method: 'GET',
      path: ['models', args.model, 'artifacts', args.kind, 'versions'],
      query: { limit: args.limit, cursor },
    })
    let response = await request(args.cursor)
    if (args.all) {
      const versions: unknown[] = []
      for (;;) {
        const body = asRecord(response.body)
        const page = body?.versions
        if (Array.isArray(page)) versions.push(...page)
        const next = body?.nextCursor
        if (typeof next !== 'string' || next === '') break
        response = await request(next)
      }
      const merged = { versions, nextCursor: null }
      response = { ...response, body: merged, text: JSON.stringify(merged) }
    }
    printResult(context, response, (body) => formatTable([
      { header: 'VERSION ID', value: (v) => v.versionId },
      { header: 'LATEST', value: (v) => v.isLatest === true ? 'yes' : '' },
      { header: 'LAST MODIFIED', value: (v) => v.lastModified },
      { header: 'SIZE', value: (v) => v.deleteMarker === true ? 'delete marker' : sizeText(v.size), align: 'right' },
      { header: 'SHA256', value: (v) => shortSha(v.sha256) },
    ], recordsIn(body, 'versions')))
    const next = asRecord(response.body)?.nextCursor
    if (!context.json && typeof next === 'string' && next !== '') {
      context.io.stderr.write(`more versions: --cursor ${next}, or --all\n`)
    }
  },
})

export const uploadCommand = defineCommand({
  name: 'upload',
  synopsis: '<model> <weights|labels> <file>',
  summary: 'upload a file as a new S3 version of the weights or labels',
  details: 'The file is streamed, never read whole into memory. A progress bar is drawn on stderr when it is a terminal.',
  options: {},
  parse: (raw) => {
    const [model, kind, file] = positionals(raw, ['model', 'kind', 'file'])
    return { model: model!, kind: oneOf(kind!, ARTIFACT_KINDS, '<kind>'), file: file! }
  },
  run: async (context, args) => {
    const response = await uploadFile(context, args)
    printResult(context, response, (body) => {
      const { versionId, size, sha256, ...rest } = asRecord(body) ?? {}
      return formatFields({
        versionId,
        size: typeof size === 'number' && size >= 1024 ? `${size} (${formatBytes(size)})` : size,
        sha256,
        ...rest,
      })
    })
  },
})

async function uploadFile (context: CommandContext, args: { model: string, kind: ArtifactKind, file: string }) {
  let progress: UploadProgress | undefined
  try {
    return await context.client.uploadFile(args.model, args.kind, args.file, {
      start: (totalBytes) => { progress = new UploadProgress(context.io.stderr, totalBytes) },
      sent: (bytes) => progress?.advance(bytes),
    })
  } catch (error) {
    if (error instanceof UploadFileError) throw new UsageError(error.message)
    throw error
  } finally {
    progress?.finish()
  }
}

function sizeText (size: unknown): string | null {
  return typeof size === 'number' ? formatBytes(size) : null
}

export function shortSha (sha: unknown): string | null {
  return typeof sha === 'string' ? sha.slice(0, SHORT_SHA) : null
}
