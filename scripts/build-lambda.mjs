// `npm run build:lambda`: bundles lambda/index.ts into dist/lambda/index.mjs, the file the Lambda image and the
// local Lambda runtime load (`index.handler`).
//
// One ESM file for Node 20+ (the image runs Node 22) with the AWS SDK and modelpin's code inside: one file to read
// at init is faster than resolving hundreds of modules. Left external, loaded from node_modules:
// - onnxruntime-node and sharp: native addons (.node files and shared libraries esbuild cannot bundle);
// - pino: its transports start worker threads from files by path, which a bundle does not have.
// Next to the bundle it writes package.json naming exactly these externals at the versions installed here (from
// package-lock.json), which the Dockerfile installs for linux x64: the image gets the function's three runtime
// packages, not the admin API's (better-sqlite3 alone would need a compiler in the image).
//
// Usage: node scripts/build-lambda.mjs [--outfile path]
import { readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { build } from 'esbuild'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const DEFAULT_OUTFILE = resolve(root, 'dist/lambda/index.mjs')
export const EXTERNAL = ['onnxruntime-node', 'sharp', 'pino', 'pino-pretty']
/** What the bundle imports at run time (pino-pretty is only ever loaded on a TTY, never in Lambda). */
const RUNTIME_PACKAGES = ['onnxruntime-node', 'sharp', 'pino']

/** Builds the bundle; written to a temporary name and renamed, so a concurrent reader never sees half a file. */
export async function buildLambda ({ outfile = DEFAULT_OUTFILE, minify = false } = {}) {
  const temporary = `${outfile}.${process.pid}.tmp.mjs`
  const result = await build({
    entryPoints: [resolve(root, 'lambda/index.ts')],
    outfile: temporary,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    external: EXTERNAL,
    minify,
    sourcemap: false,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // The SDK is CommonJS and calls require() for Node built-ins; an ES module has no require of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  })
  await rename(temporary, outfile)
  const dependencies = {}
  for (const name of RUNTIME_PACKAGES) {
    dependencies[name] = JSON.parse(await readFile(resolve(root, 'node_modules', name, 'package.json'), 'utf8')).version
  }
  const manifest = { name: 'modelpin-inference', private: true, description: 'Runtime packages of the bundled inference function', dependencies }
  await writeFile(resolve(dirname(outfile), 'package.json'), JSON.stringify(manifest, null, 2) + '\n')
  const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0
  return { outfile, bytes }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' }, minify: { type: 'boolean' } } })
  const { outfile, bytes } = await buildLambda({ outfile: values.outfile === undefined ? undefined : resolve(values.outfile), minify: values.minify })
  console.log(`[build:lambda] ${outfile} (${(bytes / 1024).toFixed(0)} KiB)`)
}
