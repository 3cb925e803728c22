import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import type { AliasState, LocalFunction, VersionConfiguration } from './function-model.js'

/**
 * The local runtime's control-plane state on disk: each function's `$LATEST`, published versions and aliases
 * (configuration, RevisionIds, routing, code location), so that a restart serves what it served before, as Lambda
 * keeps a function between calls. One JSON file, replaced whole and atomically (a temporary file, fsync, rename) on
 * every change, so a crash leaves either the old state or the new one.
 */

const FORMAT = 'modelpin-local-lambda-state/1'

/** A function as the state file holds it: the maps as arrays, no timer. */
export type SavedFunction = Omit<LocalFunction, 'versions' | 'aliases' | 'updateTimer'> & {
  versions: VersionConfiguration[]
  aliases: AliasState[]
}

interface StateFileContent {
  format: typeof FORMAT
  savedAt: string
  functions: SavedFunction[]
}

/** The state file at `path` is not one this runtime wrote (or was damaged by hand). */
export class RuntimeStateFileError extends Error {
  constructor (path: string, reason: string) {
    super(`lambda runtime state ${path}: ${reason}; remove the file to start the runtime empty`)
    this.name = 'RuntimeStateFileError'
  }
}

/** Reads the saved functions by name; undefined when there is no state file yet. */
export function loadRuntimeState (path: string): Map<string, SavedFunction> | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let content: Partial<StateFileContent>
  try {
    content = JSON.parse(text) as Partial<StateFileContent>
  } catch (error) {
    throw new RuntimeStateFileError(path, `not JSON (${(error as Error).message})`)
  }
  if (content.format !== FORMAT) throw new RuntimeStateFileError(path, `format is not "${FORMAT}"`)
  if (!Array.isArray(content.functions)) throw new RuntimeStateFileError(path, '"functions" is not an array')
  const functions = new Map<string, SavedFunction>()
  for (const [i, fn] of content.functions.entries()) {
    if (typeof fn?.name !== 'string' || typeof fn.latest !== 'object' || !Array.isArray(fn.versions) ||
      !Array.isArray(fn.aliases) || !Number.isInteger(fn.nextVersion)) {
      throw new RuntimeStateFileError(path, `functions[${i}] lacks name, latest, versions, aliases or nextVersion`)
    }
    functions.set(fn.name, fn)
  }
  return functions
}

/** Replaces the state file with `functions`, atomically. */
export function saveRuntimeState (path: string, functions: Iterable<LocalFunction>): void {
  const content: StateFileContent = {
    format: FORMAT,
    savedAt: new Date().toISOString(),
    functions: [...functions].map(({ updateTimer: _timer, versions, aliases, ...rest }) => ({
      ...rest,
      versions: [...versions.values()],
      aliases: [...aliases.values()],
    })),
  }
  const temporary = `${path}.${process.pid}.tmp`
  try {
    const fd = openSync(temporary, 'w')
    try {
      writeSync(fd, JSON.stringify(content, null, 2) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, path)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/**
 * A function as the runtime's config declares it (`declared`, freshly created) with what the state file kept of it:
 * the kept `$LATEST`, versions and aliases win, as a Lambda function outlives a restart of whoever calls it. An
 * update that was in progress when the state was saved has completed since (with a new RevisionId, as Lambda gives).
 */
export function restoreFunction (declared: LocalFunction, saved: SavedFunction, newRevisionId: () => string): LocalFunction {
  const { name: _name, arn: _arn, maxConcurrency: _maxConcurrency, versions, aliases, ...kept } = saved
  const wasUpdating = saved.lastUpdateStatus === 'InProgress'
  return {
    ...declared,
    ...kept,
    latest: wasUpdating ? { ...kept.latest, revisionId: newRevisionId() } : kept.latest,
    lastUpdateStatus: 'Successful',
    versions: new Map(versions.map((v) => [v.version, v])),
    aliases: new Map(aliases.map((a) => [a.name, a])),
    updateTimer: undefined,
  }
}
