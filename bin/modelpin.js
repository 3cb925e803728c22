#!/usr/bin/env node
// The `modelpin` command. It runs dist/cli/main.mjs, the CLI bundled into one JavaScript file by
// scripts/build-cli.mjs, which `npm ci` runs (the prepare script). When the bundle is missing or older than a source
// it was built from, it is rebuilt here first (tens of milliseconds), so any checkout runs its own sources. Without
// esbuild (an install without dev dependencies) the sources run through tsx, a runtime dependency, as before.
import { pathToFileURL } from 'node:url'
import { buildCli, BundlerUnavailableError, CLI_OUTFILE, cliBundleIsCurrent } from '../scripts/build-cli.mjs'

async function loadMain () {
  if (!await cliBundleIsCurrent()) {
    try {
      await buildCli()
    } catch (error) {
      if (!(error instanceof BundlerUnavailableError)) throw error
      const { register } = await import('tsx/esm/api')
      register()
      return (await import('../src/cli/main.ts')).main
    }
  }
  return (await import(pathToFileURL(CLI_OUTFILE).href)).main
}

const main = await loadMain()
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})
