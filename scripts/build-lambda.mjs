// `npm run build:lambda [-- --outfile path] [--minify]`: builds the Lambda bundle (dist/lambda/index.mjs by default).
// The build itself is src/local/lambda-bundle.ts, loaded here through tsx so that the bundle can be built before, or
// without, `tsc`.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { tsImport } from 'tsx/esm/api'

const { buildLambda } = await tsImport('../src/local/lambda-bundle.ts', import.meta.url)
const { values } = parseArgs({ options: { outfile: { type: 'string' }, minify: { type: 'boolean' } } })
const { outfile, bytes } = await buildLambda({ outfile: values.outfile === undefined ? undefined : resolve(values.outfile), minify: values.minify })
console.log(`[build:lambda] ${outfile} (${(bytes / 1024).toFixed(0)} KiB)`)
