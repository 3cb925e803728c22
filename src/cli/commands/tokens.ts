import { defineCommand, oneOf, positionals, positiveInteger, printResult, stringOption } from '../command.js'
import { UsageError } from '../errors.js'
import { asRecord, recordsIn } from '../json-shape.js'
import { formatFields, formatTable } from '../table.js'

export const ROLES = ['viewer', 'promoter', 'admin'] as const

export type TokenArgs =
  | { action: 'create', name: string, role: typeof ROLES[number], expiresInDays?: number }
  | { action: 'list' }
  | { action: 'revoke', id: string }

export const tokenCommand = defineCommand<TokenArgs>({
  name: 'token',
  synopsis: 'create <name> --role viewer|promoter|admin [--expires-in-days N] | list | revoke <id>',
  summary: 'mint (shown once), list or revoke API tokens (admin only)',
  details: 'Roles nest: viewer reads; promoter also uploads, registers releases, promotes, rolls back, runs canaries\n' +
    'and predicts; admin also registers models and mints tokens. Names are unique among active tokens.\n' +
    'list shows ids, never secrets; revoke <id> makes the token fail on every replica within a second.\n' +
    'The bootstrap admin token cannot be revoked: restart the API with a new MODELPIN_ADMIN_TOKEN instead.',
  options: {
    role: { type: 'string', value: 'role', description: 'create: viewer, promoter or admin' },
    'expires-in-days': { type: 'string', value: 'N', description: 'create: the token expires after N days (1 to 3650); default never' },
  },
  parse: (raw) => {
    const action = oneOf(raw.positionals[0] ?? '', ['create', 'list', 'revoke'], 'the token action')
    if (action === 'list') {
      positionals(raw, ['action'])
      return { action }
    }
    if (action === 'revoke') {
      const [, id] = positionals(raw, ['action', 'id'])
      return { action, id: id! }
    }
    const [, name] = positionals(raw, ['action', 'name'])
    const role = stringOption(raw, 'role')
    if (role === undefined) throw new UsageError('--role viewer|promoter|admin is required')
    const days = stringOption(raw, 'expires-in-days')
    return {
      action,
      name: name!,
      role: oneOf(role, ROLES, '--role'),
      ...(days === undefined ? {} : { expiresInDays: positiveInteger(days, '--expires-in-days') }),
    }
  },
  run: async (context, args) => {
    switch (args.action) {
      case 'create': {
        const { action, ...body } = args
        const response = await context.client.send({ method: 'POST', path: ['tokens'], json: body })
        printResult(context, response, (answer) => formatFields(asRecord(answer) ?? {}))
        if (!context.json) context.io.stderr.write('the token is shown once: keep it now\n')
        return
      }
      case 'list': {
        const response = await context.client.send({ method: 'GET', path: ['tokens'] })
        printResult(context, response, (answer) => formatTable([
          { header: 'ID', value: (token) => token.id },
          { header: 'NAME', value: (token) => token.name },
          { header: 'ROLE', value: (token) => token.role },
          { header: 'CREATED', value: (token) => token.createdAt },
          { header: 'EXPIRES', value: (token) => token.expiresAt ?? 'never' },
          { header: 'LAST USED', value: (token) => token.lastUsedAt ?? 'never' },
          { header: 'REVOKED', value: (token) => token.revokedAt ?? '' },
        ], recordsIn(answer, 'tokens')))
        return
      }
      case 'revoke': {
        await context.client.send({ method: 'DELETE', path: ['tokens', args.id] })
        if (context.json) context.io.stdout.write(`${JSON.stringify({ revoked: args.id })}\n`)
        else context.io.stdout.write(`token ${args.id} revoked\n`)
      }
    }
  },
})

export const whoamiCommand = defineCommand({
  name: 'whoami',
  synopsis: '',
  summary: 'the name, role and expiry of the token in use',
  options: {},
  parse: (raw) => {
    positionals(raw, [])
    return {}
  },
  run: async (context) => {
    const response = await context.client.send({ method: 'GET', path: ['whoami'] })
    printResult(context, response, (answer) => formatFields(asRecord(answer) ?? {}))
  },
})
