// Builds the web console (console/, Preact + Vite) into dist/console, which the admin API serves at /ui/.
// `npm run build` always builds; `npm start` and `npm test` call it with --if-stale, so a fresh clone (CI) gets a
// console and a changed source is never served from an old build.
//
// Usage: node scripts/build-console.mjs [--if-stale]
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const CONSOLE_SOURCE = join(root, 'console')
export const CONSOLE_OUTDIR = join(root, 'dist', 'console')
const SELF = fileURLToPath(import.meta.url)

/**
 * Builds the console with Vite into a staging folder, then moves it into dist/console: the hashed assets first, then
 * index.html by a rename. A page or a test reading dist/console meanwhile (or a second build running at once, as
 * parallel test files may start) always sees an index.html whose assets are there.
 */
export async function buildConsole ({ logLevel = 'warn' } = {}) {
  const { build } = await import('vite')
  await mkdir(dirname(CONSOLE_OUTDIR), { recursive: true })
  const staging = await mkdtemp(`${CONSOLE_OUTDIR}-build-`)
  try {
    await build({ configFile: join(CONSOLE_SOURCE, 'vite.config.ts'), logLevel, build: { outDir: staging, emptyOutDir: true } })
    const assets = join(CONSOLE_OUTDIR, 'assets')
    await mkdir(assets, { recursive: true })
    const built = await readdir(join(staging, 'assets'))
    for (const file of built) await rename(join(staging, 'assets', file), join(assets, file))
    await rename(join(staging, 'index.html'), join(CONSOLE_OUTDIR, 'index.html'))
    // what an earlier build left: its names are hashes of other contents, so no current page refers to them
    const html = await readFile(join(CONSOLE_OUTDIR, 'index.html'), 'utf8')
    for (const file of await readdir(assets)) {
      if (!html.includes(`assets/${file}`) && !built.includes(file)) await rm(join(assets, file), { force: true })
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return { outdir: CONSOLE_OUTDIR }
}

/** True when dist/console/index.html is newer than every file under console/ (and this script). */
export async function consoleBuildIsCurrent () {
  let builtAt
  try {
    builtAt = (await stat(join(CONSOLE_OUTDIR, 'index.html'))).mtimeMs
  } catch {
    return false
  }
  const newest = Math.max((await stat(SELF)).mtimeMs, await newestMtime(CONSOLE_SOURCE))
  return newest <= builtAt
}

/** Builds unless the build is current; answers whether it built. */
export async function ensureConsoleBuilt (options = {}) {
  if (await consoleBuildIsCurrent()) return false
  await buildConsole(options)
  return true
}

async function newestMtime (dir) {
  let newest = 0
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    const mtime = entry.isDirectory() ? await newestMtime(path) : (await stat(path)).mtimeMs
    newest = Math.max(newest, mtime)
  }
  return newest
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === SELF) {
  const ifStale = process.argv.includes('--if-stale')
  const built = ifStale ? await ensureConsoleBuilt() : (await buildConsole(), true)
  if (built) process.stderr.write(`[console] built into ${CONSOLE_OUTDIR}\n`)
}
