import t from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { API_ENVIRONMENT } from '../src/api/config.js'
import { ERROR_CODES } from '../src/api/errors.js'
import { CONFIG_VARIABLES } from '../lambda/config.js'
import { STACK_ENVIRONMENT } from '../src/local/stack.js'

// The README's tables are written by hand; these lists are what the code reads. A variable or error code added to
// the code and not to the README fails here.
const readme = await readFile(join(import.meta.dirname, '..', 'README.md'), 'utf8')

t.test('every environment variable the code reads is in the README', async (t) => {
  const names = [
    ...API_ENVIRONMENT.flatMap((v) => v.name.split(/,\s*/)),
    ...CONFIG_VARIABLES.map((v) => v.name),
    ...STACK_ENVIRONMENT.map((v) => v.name),
  ]
  t.ok(names.length > 20, 'the lists are not empty')
  for (const name of new Set(names)) t.match(readme, `\`${name}\``, `${name} is documented`)
})

t.test('every error code is in the README with its status', async (t) => {
  for (const [code, { status }] of Object.entries(ERROR_CODES)) {
    t.match(readme, new RegExp(`\`${code}\`[^\\n]*\\b${status}\\b|\\b${status}\\b[^\\n]*\`${code}\``), `${code} (${status}) is documented`)
  }
})
