import { defineCommand, positionals, printResult } from '../command.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

export const modelsCommand = defineCommand({
  name: 'models',
  synopsis: '',
  summary: 'list the registered models',
  options: {},
  parse: (raw) => {
    positionals(raw, [])
    return {}
  },
  run: async (context) => {
    const response = await context.client.send({ method: 'GET', path: ['models'] })
    printResult(context, response, (body) => formatTable([
      { header: 'NAME', value: (m) => m.name },
      { header: 'BUCKET', value: (m) => m.bucket },
      { header: 'WEIGHTS KEY', value: (m) => m.weightsKey },
      { header: 'LABELS KEY', value: (m) => m.labelsKey },
      { header: 'FUNCTION', value: (m) => m.functionName === null ? '(registry only)' : m.functionName },
      { header: 'LAMBDA ALIAS', value: (m) => m.functionName === null ? null : m.functionAlias },
      { header: 'DEPLOY ALIAS', value: (m) => m.deployAlias },
    ], recordsIn(body, 'models')))
  },
})

export const modelCommand = defineCommand({
  name: 'model',
  synopsis: '<model>',
  summary: 'show one model',
  options: {},
  parse: (raw) => {
    const [model] = positionals(raw, ['model'])
    return { model: model! }
  },
  run: async (context, { model }) => {
    const response = await context.client.send({ method: 'GET', path: ['models', model] })
    printResult(context, response, (body) => formatFields(asRecord(body) ?? {}))
  },
})
