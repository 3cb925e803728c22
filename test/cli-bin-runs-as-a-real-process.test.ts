import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { EXIT_CODES } from '../src/cli/main.js'
import { emptyDirectory } from './helpers/cli.js'

const run = promisify(execFile)
const BIN = fileURLToPath(new URL('../bin/modelpin.js', import.meta.url))

t.test('bin/modelpin.js runs without a build: --help prints usage and exits 0', async (t) => {
  // executed directly, as a user's shell does, so the shebang and the executable bit are part of what is tested
  const { stdout, stderr } = await run(BIN, ['--help'], { cwd: await emptyDirectory(t) })
  t.match(stdout, /^modelpin: the command-line client of the modelpin admin API\n/)
  t.match(stdout, /^exit codes:$/m)
  t.equal(stderr, '')
})

t.test('bin/modelpin.js passes the exit code of a usage error to the shell', async (t) => {
  const error = await run(BIN, ['promote', 'resnet50'], { cwd: await emptyDirectory(t) })
    .then(() => undefined, (error: { code: number, stderr: string }) => error)
  t.equal(error?.code, EXIT_CODES.usage)
  t.equal(error?.stderr, 'error: usage: missing <alias> <release> (see modelpin promote --help)\n')
})
