// `npm run build:cli`, also npm's `prepare` step (so `npm ci` runs it): bundles src/cli/main.ts into
// dist/cli/main.mjs, the file bin/modelpin.js runs. One file of plain JavaScript starts in tens of milliseconds;
// compiling the TypeScript sources at every start (tsx) cost several hundred.
//
// Next to the bundle, main.mjs.inputs.json lists the files it was built from and when the build started, so
// bin/modelpin.js can tell that a source changed since and rebuild first: a checkout never runs stale code.
//
// Usage: node scripts/build-cli.mjs [--outfile path]
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import { dirname, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const CLI_ENTRY = resolve(root, 'src/cli/main.ts')
export const CLI_OUTFILE = resolve(root, 'dist/cli/main.mjs')
const SELF = fileURLToPath(import.meta.url)

/** esbuild cannot be loaded (it is a dev dependency, and tsx's); bin/modelpin.js then runs the sources through tsx. */
export class BundlerUnavailableError extends Error {
  constructor (cause) {
    super('esbuild is not installed, so the CLI cannot be bundled', { cause })
    this.name = 'BundlerUnavailableError'
  }
}

/**
 * Builds the bundle. Both files are written under temporary names and renamed, the bundle first, so a concurrent
 * reader never sees half a file nor a list of inputs newer than its bundle.
 */
export async function buildCli ({ outfile = CLI_OUTFILE, logLevel = 'warning' } = {}) {
  // imported here, not at the top, so that bin/modelpin.js checking freshness never loads esbuild
  let esbuild
  try {
    esbuild = await import('esbuild')
  } catch (error) {
    throw new BundlerUnavailableError(error)
  }
  const startedAt = Date.now()
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [CLI_ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    write: false,
    metafile: true,
    legalComments: 'none',
    logLevel,
  })
  const [output] = result.outputFiles
  // relative to the checkout, so a checkout moved elsewhere keeps its bundle
  const inputs = [...Object.keys(result.metafile.inputs), relative(root, SELF)]
  await mkdir(dirname(outfile), { recursive: true })
  await writeAtomically(outfile, output.contents)
  await writeAtomically(inputsFile(outfile), JSON.stringify({ startedAt, inputs }, null, 2) + '\n')
  return { outfile, bytes: output.contents.byteLength }
}

/** True when the bundle was built after the last change of every file it was built from (all still there). */
export async function cliBundleIsCurrent ({ outfile = CLI_OUTFILE } = {}) {
  let record
  try {
    record = JSON.parse(await readFile(inputsFile(outfile), 'utf8'))
    await stat(outfile)
  } catch {
    return false
  }
  if (typeof record?.startedAt !== 'number' || !Array.isArray(record.inputs)) return false
  const changed = await Promise.all(record.inputs.map((file) =>
    stat(resolve(root, file)).then((info) => info.mtimeMs > record.startedAt, () => true)))
  return !changed.includes(true)
}

function inputsFile (outfile) {
  return `${outfile}.inputs.json`
}

async function writeAtomically (file, contents) {
  const temporary = `${file}.${process.pid}.tmp`
  await writeFile(temporary, contents)
  await rename(temporary, file)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } } })
  try {
    const { outfile, bytes } = await buildCli({ outfile: values.outfile === undefined ? undefined : resolve(values.outfile) })
    console.log(`[build:cli] ${outfile} (${(bytes / 1024).toFixed(0)} KiB)`)
  } catch (error) {
    // prepare runs in every install; without esbuild bin/modelpin.js runs the sources through tsx: no failure
    if (!(error instanceof BundlerUnavailableError)) throw error
    console.log(`[build:cli] skipped: ${error.message}; bin/modelpin.js will run the sources through tsx`)
  }
}
