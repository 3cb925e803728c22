/**
 * The Lambda bundle: lambda/index.ts as dist/lambda/index.mjs, the file the Lambda image and the local Lambda
 * runtime load (`index.handler`), and lambda/main.ts as dist/lambda/main.mjs beside it, which the entry point imports
 * once it has started the model's download (src/inference/early-read.ts). The entry carries main.mjs's sha256 in a
 * comment, so that its own digest (Lambda's CodeSha256 in the local runtime) changes whenever the function's does.
 * `npm run build:lambda` (scripts/build-lambda.mjs) and the local stack build it.
 *
 * One ESM file for Node 20+ (the image runs Node 22) with the AWS SDK and modelpin's code inside: one file to read
 * at init is faster than resolving hundreds of modules. Left external, loaded from node_modules:
 * - onnxruntime-node and sharp: native addons (.node files and shared libraries esbuild cannot bundle);
 * - pino: its transports start worker threads from files by path, which a bundle does not have.
 * Next to the bundle it writes package.json naming exactly these externals at the versions of the repository's
 * package-lock.json, and package-lock.json cut down to them and what they need (runtime-lockfile.ts), which the
 * Dockerfile installs with `npm ci --omit=dev` for linux x64: the image gets the function's three runtime packages at
 * the locked versions and integrity hashes, not the admin API's (better-sqlite3 alone would need a compiler there).
 */
import { createHash } from 'node:crypto'
import { readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { build, type BuildOptions } from 'esbuild'
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
}

/**
 * Builds the bundle (with no `entryPoint`: the entry point and the function, two files; with one: that one file);
 * each written to a temporary name and renamed, so a concurrent reader never sees half a file.
 */
export async function buildLambda (options: BuildLambdaOptions = {}): Promise<{ outfile: string, bytes: number }> {
  const outfile = options.outfile ?? DEFAULT_OUTFILE
  const common = { minify: options.minify ?? false }
  let bytes: number
  if (options.entryPoint !== undefined) {
    bytes = await bundle(options.entryPoint, outfile, common)
  } else {
    const main = resolve(dirname(outfile), 'main.mjs')
    bytes = await bundle(resolve(REPOSITORY_ROOT, 'lambda/main.ts'), main, common)
    const digest = createHash('sha256').update(await readFile(main)).digest('hex')
    bytes += await bundle(resolve(REPOSITORY_ROOT, 'lambda/index.ts'), outfile, {
      ...common,
      banner: `// main.mjs sha256 ${digest}`,
      // lambda/index.ts imports './main.js' (lambda/main.ts when run from source), which is main.mjs beside it
      plugins: [{ name: 'function-beside', setup: (b) => b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './main.mjs', external: true })) }],
    })
  }
  const repositoryLock = JSON.parse(await readFile(resolve(REPOSITORY_ROOT, 'package-lock.json'), 'utf8')) as Lockfile
  const { lockfile, dependencies } = pruneLockfile(repositoryLock, IMAGE_PACKAGE_NAME, RUNTIME_PACKAGES)
  const manifest = { name: IMAGE_PACKAGE_NAME, private: true, description: 'Runtime packages of the bundled inference function', dependencies }
  await writeFile(resolve(dirname(outfile), 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  await writeFile(resolve(dirname(outfile), 'package-lock.json'), JSON.stringify(lockfile, null, 2) + '\n')
  return { outfile, bytes }
}

/** One esbuild bundle of `entry` into `outfile`; returns its size. */
async function bundle (entry: string, outfile: string, options: { minify: boolean, banner?: string, plugins?: BuildOptions['plugins'] }): Promise<number> {
  const temporary = `${outfile}.${process.pid}.tmp.mjs`
  const result = await build({
    entryPoints: [entry],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: EXTERNAL,
    minify: options.minify,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    plugins: options.plugins ?? [],
    mainFields: ['module', 'main'],
    // The SDK is CommonJS and calls require() for Node built-ins; an ES module has no require of its own.
    banner: { js: `import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);${options.banner === undefined ? '' : `\n${options.banner}`}` },
  })
  await rename(temporary, outfile)
  return Object.values(result.metafile.outputs)[0]?.bytes ?? 0
}
