// Builds the web console (console/, Preact + Vite) into dist/console, which the admin API serves at /ui/.
// `npm run build` always builds; `npm start` and `npm test` call it with --if-stale, so a fresh clone (CI) gets a
// console and a changed source is never served from an old build.
//
// Usage: node scripts/build-console.mjs [--if-stale]
import { readdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const CONSOLE_SOURCE = join(root, 'console')
export const CONSOLE_OUTDIR = join(root, 'dist', 'console')
const SELF = fileURLToPath(import.meta.url)

/** Builds the console with Vite (console/vite.config.ts). */
export async function buildConsole ({ logLevel = 'warn' } = {}) {
  const { build } = await import('vite')
  await build({ configFile: join(CONSOLE_SOURCE, 'vite.config.ts'), logLevel })
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
