#!/usr/bin/env node
// The `modelpin` command. It runs the TypeScript sources through tsx (a runtime dependency of the project), so it
// works in any checkout after `npm install`, with no build step and no stale dist/ to fall out of step with src/.
// tsx's register() hooks this process's module loader only; starting costs a fraction of a second.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
})
