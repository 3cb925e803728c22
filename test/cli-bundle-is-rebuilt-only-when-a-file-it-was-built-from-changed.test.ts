import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import t from 'tap'
import { buildCli, cliBundleIsCurrent } from '../scripts/build-cli.mjs'
import type { main as Main } from '../src/cli/main.js'
import { captureIo, emptyDirectory } from './helpers/cli.js'

// What bin/modelpin.js decides before each command: run dist/cli/main.mjs as it is, or rebuild it first. Built here
// into a temporary folder, and made stale by rewriting its record, so no source file is touched.

t.test('a fresh bundle is current and runs the CLI; an older build, a lost input or a lost record is not current', async (t) => {
  const outfile = path.join(await emptyDirectory(t), 'main.mjs')
  const record = `${outfile}.inputs.json`
  await buildCli({ outfile })
  t.equal(await cliBundleIsCurrent({ outfile }), true, 'just built')

  const { main } = await import(pathToFileURL(outfile).href) as { main: typeof Main }
  const captured = await captureIo(t)
  t.equal(await main(['--help'], captured.io), 0)
  t.match(captured.stdout(), /^modelpin: the command-line client of the modelpin admin API\n/)

  const built = JSON.parse(await readFile(record, 'utf8')) as { startedAt: number, inputs: string[] }
  t.ok(built.inputs.includes('src/cli/main.ts'), 'the entry is one of the inputs')
  t.ok(built.inputs.includes('src/client/admin-api.ts'), 'so is every module it imports')
  t.ok(built.inputs.includes('scripts/build-cli.mjs'), 'and the build script itself')

  await writeFile(record, JSON.stringify({ ...built, startedAt: 0 }))
  t.equal(await cliBundleIsCurrent({ outfile }), false, 'a source changed after the build started')

  await writeFile(record, JSON.stringify({ ...built, inputs: [...built.inputs, 'src/cli/no-such-file.ts'] }))
  t.equal(await cliBundleIsCurrent({ outfile }), false, 'an input is gone')

  await writeFile(record, JSON.stringify(built))
  t.equal(await cliBundleIsCurrent({ outfile }), true, 'the record as written is current again')
  await rm(record)
  t.equal(await cliBundleIsCurrent({ outfile }), false, 'no record: rebuild')
})
