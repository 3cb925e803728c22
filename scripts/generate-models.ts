/**
 * `npm run model:demo [-- --kind resnet50|tiny] [--out DIR] [--seed N]`: writes a demo model set (two weights
 * versions, two labels versions) generated from a seed, and prints the sha256 of each file. The generator itself is
 * src/local/demo-models/model-set.ts.
 */
import { parseArgs } from 'node:util'
import { generateModelSet } from '../src/local/demo-models/model-set.js'

async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string', default: 'resnet50' },
      out: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help === true) {
    console.log('usage: npm run model:demo -- [--kind resnet50|tiny] [--out DIR] [--seed N]')
    return
  }
  if (values.kind !== 'resnet50' && values.kind !== 'tiny') throw new Error(`--kind must be resnet50 or tiny, got "${values.kind}"`)
  const seed = values.seed === undefined ? undefined : Number(values.seed)
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got "${values.seed}"`)
  const set = await generateModelSet({
    kind: values.kind,
    outDir: values.out,
    seed,
    onProgress: (message) => console.error(`[model:demo] ${message}`),
  })
  for (const path of [...set.weights, ...set.labels]) console.log(`${set.sha256[path]}  ${path}`)
}

main().catch((error: unknown) => {
  console.error(`[model:demo] ${error instanceof Error ? error.message : String(error)}`)
  process.exitCode = 1
})
