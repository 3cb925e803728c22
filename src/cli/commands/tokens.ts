import { defineCommand, oneOf, positionals, printResult, stringOption } from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord } from '../json-shape.js'
import { formatFields } from '../table.js'

export const ROLES = ['viewer', 'promoter', 'admin'] as const

export const tokenCommand = defineCommand({
  name: 'token',
  synopsis: 'create <name> --role viewer|promoter|admin',
  summary: 'mint an API token (admin only); it is shown once',
  details: 'Roles nest: viewer reads; promoter also uploads, registers releases, promotes, rolls back, runs canaries\n' +
    'and predicts; admin also registers models and mints tokens.',
  options: { role: { type: 'string', value: 'role', description: 'viewer, promoter or admin' } },
  parse: (raw) => {
    const [action, name] = positionals(raw, ['create', 'name'])
    oneOf(action!, ['create'], 'the token action')
    const role = stringOption(raw, 'role')
    if (role === undefined) throw new UsageError('--role viewer|promoter|admin is required')
    return { name: name!, role: oneOf(role, ROLES, '--role') }
  },
  run: async (context, body) => {
    const response = await context.client.send({ method: 'POST', path: ['tokens'], json: body })
    printResult(context, response, (body) => formatFields(asRecord(body) ?? {}))
    if (!context.json) context.io.stderr.write('the token is shown once: keep it now\n')
  },
})
