#!/usr/bin/env node
// The `modelpin` command. It runs dist/cli/main.mjs, the CLI bundled into one JavaScript file by
// scripts/build-cli.mjs, which `npm ci` runs (the prepare script). When the bundle is missing or older than a source
// it was built from, it is rebuilt here first (tens of milliseconds), so any checkout runs its own sources. When it
// cannot be rebuilt for want of esbuild or of write access to dist/ (a checkout owned by someone else), the sources
// run through tsx, a runtime dependency, as they did before the bundle.
import { pathToFileURL } from 'node:url'
import { buildCli, BundlerUnavailableError, CLI_OUTFILE, cliBundleIsCurrent } from '../scripts/build-cli.mjs'

const CANNOT_WRITE = new Set(['EACCES', 'EPERM', 'EROFS'])

async function loadMain () {
  if (!await cliBundleIsCurrent()) {
    try {
      // silent: a command's stderr is its own; a failed build still throws with esbuild's messages
      await buildCli({ logLevel: 'silent' })
    } catch (error) {
      if (!(error instanceof BundlerUnavailableError) && !CANNOT_WRITE.has(error?.code)) {
        process.stderr.write(`error: the CLI could not be built from src/ (scripts/build-cli.mjs): ${error.message}\n`)
        process.exit(1)
      }
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
