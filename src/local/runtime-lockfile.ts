/**
 * The Lambda image's lockfile: the repository's package-lock.json cut down to the packages the bundle loads at run
 * time (onnxruntime-node, sharp, pino) and everything they need, at the same paths, versions and integrity hashes.
 * `npm ci` over it installs exactly what the repository's lockfile resolved, and nothing of the admin API's.
 *
 * Our own code because npm has no command that prunes a lockfile to a subset of its dependencies (`npm prune` works
 * on an installed tree, and @npmcli/arborist is not a dependency of this project). The format is npm's lockfile
 * version 2 or 3 (`packages` keyed by install path); Node's resolution rule decides which entry a dependency means.
 */

export interface LockfileEntry {
  version?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  dev?: boolean
  optional?: boolean
  devOptional?: boolean
  peer?: boolean
  link?: boolean
  [key: string]: unknown
}

export interface Lockfile {
  name?: string
  version?: string
  lockfileVersion: number
  requires?: boolean
  packages: Record<string, LockfileEntry>
  [key: string]: unknown
}

export class LockfileEntryMissingError extends Error {
  constructor (readonly dependency: string, readonly from: string) {
    super(`package-lock.json has no entry for ${dependency} (needed by ${from === '' ? 'the root' : from}): run npm install`)
    this.name = 'LockfileEntryMissingError'
  }
}

/**
 * The install path a dependency `name` of the package at `from` resolves to, by Node's rule: its own node_modules
 * first, then each enclosing package's, then the root's. Undefined when no entry exists.
 */
export function resolveInLockfile (packages: Record<string, LockfileEntry>, from: string, name: string): string | undefined {
  let base = from
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`
    if (packages[candidate] !== undefined) return candidate
    if (base === '') return undefined
    const cut = base.lastIndexOf('/node_modules/')
    base = cut === -1 ? '' : base.slice(0, cut)
  }
}

/** The edges of one entry: dependency name and whether the edge is optional (an optional or optional-peer dependency). */
function edges (entry: LockfileEntry): Array<[string, boolean]> {
  const result: Array<[string, boolean]> = []
  for (const name of Object.keys(entry.dependencies ?? {})) result.push([name, false])
  for (const name of Object.keys(entry.optionalDependencies ?? {})) result.push([name, true])
  for (const name of Object.keys(entry.peerDependencies ?? {})) {
    result.push([name, entry.peerDependenciesMeta?.[name]?.optional === true])
  }
  return result
}

/**
 * A lockfile whose root depends on `names` (each at the exact version the source lockfile installed at the top
 * level), with the entries they reach and no other. `optional` is recomputed for the new root: an entry is optional
 * when only optional edges reach it (so `npm ci --os linux --cpu x64` skips other platforms' binaries), and the
 * `dev`, `devOptional` and `peer` flags, which described the old root, are dropped. A missing optional dependency is
 * skipped, as npm does; a missing required one throws LockfileEntryMissingError.
 */
export function pruneLockfile (source: Lockfile, rootName: string, names: readonly string[]): { lockfile: Lockfile, dependencies: Record<string, string> } {
  const packages = source.packages
  const dependencies: Record<string, string> = {}
  for (const name of names) {
    const entry = packages[`node_modules/${name}`]
    if (entry?.version === undefined) throw new LockfileEntryMissingError(name, '')
    dependencies[name] = entry.version
  }

  // Two walks: everything reachable, then what is reachable over required edges only.
  const walk = (followOptional: boolean): Set<string> => {
    const reached = new Set<string>()
    const queue: string[] = names.map((name) => `node_modules/${name}`)
    for (const path of queue) reached.add(path)
    while (queue.length > 0) {
      const from = queue.shift() ?? ''
      const entry = packages[from] ?? {}
      for (const [name, optional] of edges(entry)) {
        if (optional && !followOptional) continue
        const target = resolveInLockfile(packages, from, name)
        if (target === undefined) {
          if (optional) continue
          throw new LockfileEntryMissingError(name, from)
        }
        if (!reached.has(target)) {
          reached.add(target)
          queue.push(target)
        }
      }
    }
    return reached
  }
  const all = walk(true)
  const required = walk(false)

  const pruned: Record<string, LockfileEntry> = {
    '': { name: rootName, dependencies: { ...dependencies } },
  }
  for (const path of [...all].sort()) {
    const entry: LockfileEntry = { ...packages[path] }
    for (const flag of ['dev', 'optional', 'devOptional', 'peer'] as const) delete entry[flag]
    pruned[path] = required.has(path) ? entry : { ...entry, optional: true }
  }
  return {
    lockfile: { name: rootName, lockfileVersion: source.lockfileVersion, requires: true, packages: pruned },
    dependencies,
  }
}
