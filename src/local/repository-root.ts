import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/**
 * The repository's root folder (where package.json, node_modules, lambda/ and scripts/ are), found by walking up
 * from this file: it sits at src/local/ when run through tsx and at dist/src/local/ once built, so a fixed `../..`
 * would be wrong in one of the two.
 */
export const REPOSITORY_ROOT = findRepositoryRoot(import.meta.dirname)

function findRepositoryRoot (start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (packageName(join(dir, 'package.json')) === 'modelpin') return dir
    if (dirname(dir) === dir) throw new Error(`no modelpin package.json above ${start}`)
  }
}

function packageName (path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name
  } catch {
    return undefined
  }
}
