import { mkdir, readdir, rm } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'

/** `modelpin-<host>-<pid>`: the spool folder of one API process (host names may contain dashes; a pid does not). */
const SPOOL_FOLDER = /^modelpin-(.+)-(\d+)$/

export interface SpoolFolderOptions {
  host?: string
  pid?: number
  /** whether a process of this host runs; by default signal 0 (ESRCH: gone; EPERM: runs as another user) */
  isRunning?: (pid: number) => boolean
  logger?: Logger | undefined
}

/**
 * Creates this process's spool folder `<root>/modelpin-<host>-<pid>/` and removes the folders of processes of this
 * host that no longer run: a process killed mid-upload cannot clean up after itself, and a restart on the same host
 * is the first moment anyone can. Folders of other hosts (a shared temporary folder) are left to their own host.
 * Answers the folder.
 */
export async function prepareSpoolFolder (root: string, options: SpoolFolderOptions = {}): Promise<string> {
  const host = options.host ?? hostname()
  const pid = options.pid ?? process.pid
  const isRunning = options.isRunning ?? processRuns
  await mkdir(root, { recursive: true })
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const match = SPOOL_FOLDER.exec(entry.name)
    if (!entry.isDirectory() || match === null || match[1] !== host) continue
    const owner = Number(match[2])
    if (owner === pid || isRunning(owner)) continue
    await rm(join(root, entry.name), { recursive: true, force: true })
    options.logger?.info({ folder: entry.name, pid: owner }, 'removed the spool folder of a process that no longer runs')
  }
  const folder = join(root, `modelpin-${host}-${pid}`)
  await mkdir(folder, { recursive: true, mode: 0o700 })
  return folder
}

function processRuns (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
