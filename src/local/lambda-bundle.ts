/**
 * The Lambda bundle, in dist/lambda:
 * - index.mjs, lambda/index.ts: the file the Lambda image and the local Lambda runtime load (`index.handler`). It
 *   starts the model's download (src/inference/early-read.ts), then loads the function. It carries main.cjs's
 *   sha256 in a comment, so that its own digest (Lambda's CodeSha256 in the local runtime) changes whenever the
 *   function's does.
 * - main.cjs, lambda/main.ts: the function, as CommonJS, which the entry point compiles with V8's code cache
 *   (lambda/code-cache.ts): its dynamic imports become require() calls, `import.meta.url` its file's URL.
 * - make-code-cache.mjs, lambda/make-code-cache.ts: makes main.cjs.cache. `buildLambda` runs it here (skipped when the
 *   cache beside an unchanged main.cjs was made by this Node); the image runs it again under its own Node.
 * `npm run build:lambda` (scripts/build-lambda.mjs) and the local stack build it.
 *
 * Bundles for Node 20+ (the image runs Node 22) with the AWS SDK and modelpin's code inside: one file to read
 * at init is faster than resolving hundreds of modules. Left external, loaded from node_modules:
 * - onnxruntime-node and sharp: native addons (.node files and shared libraries esbuild cannot bundle);
 * - pino: its transports start worker threads from files by path, which a bundle does not have.
 * Next to the bundle it writes package.json naming exactly these externals at the versions of the repository's
 * package-lock.json, and package-lock.json cut down to them and what they need (runtime-lockfile.ts), which the
 * Dockerfile installs with `npm ci --omit=dev` for linux x64: the image gets the function's three runtime packages at
 * the locked versions and integrity hashes, not the admin API's (better-sqlite3 alone would need a compiler there).
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { promisify } from 'node:util'
import { build, type BuildOptions } from 'esbuild'
import { codeCacheMatches } from '../../lambda/code-cache.js'
import { REPOSITORY_ROOT } from './repository-root.js'
import { pruneLockfile, type Lockfile } from './runtime-lockfile.js'

export const DEFAULT_OUTFILE = resolve(REPOSITORY_ROOT, 'dist/lambda/index.mjs')
export const EXTERNAL = ['onnxruntime-node', 'sharp', 'pino', 'pino-pretty']
/** What the bundle imports at run time (pino-pretty is only ever loaded on a TTY, never in Lambda). */
export const RUNTIME_PACKAGES = ['onnxruntime-node', 'sharp', 'pino']
const IMAGE_PACKAGE_NAME = 'modelpin-inference'

export interface BuildLambdaOptions {
  /** default dist/lambda/index.mjs in the repository */
  outfile?: string | undefined
  minify?: boolean | undefined
  /** default lambda/index.ts; the benchmarks build their naive handler (bench/lib/naive-handler.ts) the same way */
  entryPoint?: string | undefined
  /**
   * Make main.cjs.cache (default true): it runs the function's init, which needs the runtime packages resolvable
   * from the output folder (the repository's node_modules).
   */
  codeCache?: boolean | undefined
}

/**
 * Builds the bundle (with no `entryPoint`: the entry point, the function and the code cache's maker, then the code
 * cache; with one: that one file as an ES module); each written to a temporary name and renamed, so a concurrent
 * reader never sees half a file.
 */
export async function buildLambda (options: BuildLambdaOptions = {}): Promise<{ outfile: string, bytes: number }> {
  const outfile = options.outfile ?? DEFAULT_OUTFILE
  const common = { minify: options.minify ?? false }
  let bytes: number
  if (options.entryPoint !== undefined) {
    bytes = await bundle(options.entryPoint, outfile, { ...common, format: 'esm' })
  } else {
    const main = resolve(dirname(outfile), 'main.cjs')
    bytes = await bundle(resolve(REPOSITORY_ROOT, 'lambda/main.ts'), main, { ...common, format: 'cjs' })
    const digest = createHash('sha256').update(await readFile(main)).digest('hex')
    // lambda/index.ts imports './main.js' only when run from source: in the bundle it loads main.cjs
    const fromSourceOnly: BuildOptions['plugins'] = [{
      name: 'function-from-source-only', setup: (b) => b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './main.js', external: true })),
    }]
    bytes += await bundle(resolve(REPOSITORY_ROOT, 'lambda/index.ts'), outfile, {
      ...common, format: 'esm', banner: `// main.cjs sha256 ${digest}`, plugins: fromSourceOnly, define: { FUNCTION_BUNDLE: '"./main.cjs"' },
    })
    const maker = resolve(dirname(outfile), 'make-code-cache.mjs')
    await bundle(resolve(REPOSITORY_ROOT, 'lambda/make-code-cache.ts'), maker, { ...common, format: 'esm', plugins: fromSourceOnly })
    if ((options.codeCache ?? true) && !codeCacheMatches(main)) await makeCodeCache(maker)
  }
  const repositoryLock = JSON.parse(await readFile(resolve(REPOSITORY_ROOT, 'package-lock.json'), 'utf8')) as Lockfile
  const { lockfile, dependencies } = pruneLockfile(repositoryLock, IMAGE_PACKAGE_NAME, RUNTIME_PACKAGES)
  const manifest = { name: IMAGE_PACKAGE_NAME, private: true, description: 'Runtime packages of the bundled inference function', dependencies }
  await writeFile(resolve(dirname(outfile), 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  await writeFile(resolve(dirname(outfile), 'package-lock.json'), JSON.stringify(lockfile, null, 2) + '\n')
  return { outfile, bytes }
}

/**
 * Runs the code cache's maker as the local runtime runs an environment: this Node, no flags (they would change V8's
 * and make it refuse the cache), none of this process's NODE_OPTIONS.
 */
async function makeCodeCache (maker: string): Promise<void> {
  const { NODE_OPTIONS: _ignored, ...env } = process.env
  try {
    await promisify(execFile)(process.execPath, [maker], { cwd: dirname(maker), env, timeout: 120_000 })
  } catch (error) {
    const { stderr } = error as { stderr?: string }
    throw new Error(`making the function's code cache failed (${maker}): ${stderr?.trim() || (error as Error).message}`)
  }
}

/** One esbuild bundle of `entry` into `outfile`; returns its size. */
async function bundle (entry: string, outfile: string, options: {
  minify: boolean, format: 'esm' | 'cjs', banner?: string, plugins?: BuildOptions['plugins'], define?: Record<string, string>
}): Promise<number> {
  const temporary = `${outfile}.${process.pid}.tmp`
  const lines = options.format === 'esm'
    // The SDK is CommonJS and calls require() for Node built-ins; an ES module has no require of its own.
    ? ["import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"]
    // Strict, as the modules were (esbuild's own "use strict" comes after the banner), and import.meta.url's value.
    : ['"use strict";', "const __import_meta_url = require('node:url').pathToFileURL(__filename).href;"]
  if (options.banner !== undefined) lines.push(options.banner)
  const result = await build({
    entryPoints: [entry],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: options.format,
    external: EXTERNAL,
    minify: options.minify,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: options.plugins ?? [],
    mainFields: ['module', 'main'],
    banner: { js: lines.join('\n') },
    // CommonJS: import() of the externals becomes require(), and import.meta.url the file's URL (the banner's)
    supported: options.format === 'cjs' ? { 'dynamic-import': false } : {},
    define: options.format === 'cjs' ? { ...options.define, 'import.meta.url': '__import_meta_url' } : options.define,
  })
  await rename(temporary, outfile)
  return Object.values(result.metafile?.outputs ?? {})[0]?.bytes ?? 0
}
