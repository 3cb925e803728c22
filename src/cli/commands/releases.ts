import { defineCommand, positionals, printResult, stringOption } from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'
import { shortSha } from './artifacts.js'

export const releaseCommand = defineCommand({
  name: 'release',
  synopsis: '<model> --weights <versionId> --labels <versionId>',
  summary: 'register a release: a weights version and a labels version, numbered 1, 2, ...',
  options: {
    weights: { type: 'string', value: 'versionId', description: 'the S3 VersionId of the weights (see `versions`)' },
    labels: { type: 'string', value: 'versionId', description: 'the S3 VersionId of the labels' },
    notes: { type: 'string', value: 'text', description: 'what this release is, for people' },
  },
  parse: (raw) => {
    const [model] = positionals(raw, ['model'])
    const weightsVersionId = stringOption(raw, 'weights')
    const labelsVersionId = stringOption(raw, 'labels')
    if (weightsVersionId === undefined) throw new UsageError('--weights <versionId> is required')
    if (labelsVersionId === undefined) throw new UsageError('--labels <versionId> is required')
    return { model: model!, weightsVersionId, labelsVersionId, notes: stringOption(raw, 'notes') }
  },
  run: async (context, { model, ...body }) => {
    const response = await context.client.send({ method: 'POST', path: ['models', model, 'releases'], json: body })
    printResult(context, response, (body) => formatFields(asRecord(body) ?? {}))
  },
})

export const releasesCommand = defineCommand({
  name: 'releases',
  synopsis: '<model>',
  summary: 'list the releases of a model',
  options: {},
  parse: (raw) => {
    const [model] = positionals(raw, ['model'])
    return { model: model! }
  },
  run: async (context, { model }) => {
    const response = await context.client.send({ method: 'GET', path: ['models', model, 'releases'] })
    printResult(context, response, (body) => formatTable([
      { header: 'RELEASE', value: (r) => r.number, align: 'right' },
      { header: 'CREATED', value: (r) => r.createdAt },
      { header: 'BY', value: (r) => r.createdBy },
      { header: 'WEIGHTS VERSION', value: (r) => r.weightsVersionId },
      { header: 'WEIGHTS SHA256', value: (r) => shortSha(r.weightsSha256) },
      { header: 'LABELS VERSION', value: (r) => r.labelsVersionId },
      { header: 'LABELS SHA256', value: (r) => shortSha(r.labelsSha256) },
      { header: 'NOTES', value: (r) => r.notes },
    ], recordsIn(body, 'releases')))
  },
})
