import { createHash } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { Script } from 'node:vm'

/**
 * Loading the function's bundle (dist/lambda/main.cjs) with V8's code cache.
 *
 * Compiling the function's 1.6 MB of JavaScript took about 100-150 ms of each cold start's init here, on the main
 * thread while the model downloads on a worker (early-read.ts); the two share the CPU. V8 can save the bytecode of a
 * compiled script, including the functions a run compiled lazily, and take it back instead of compiling: the bundle
 * is then read in about 45 ms. Node 22 does that for every module with `module.enableCompileCache`; Node 20 has no
 * such switch, so this module does it for the one file that matters, the way Node's CommonJS loader compiles a file
 * (the same wrapper, run in this context).
 *
 * The cache is made once per build, where the bundle is built (src/local/lambda-bundle.ts) or in the image
 * (lambda/Dockerfile), by running the bundle's init without a model (make-code-cache.ts): whatever runs there (the
 * AWS SDK's module bodies, the loading of ONNX Runtime and sharp) is in it. It is only good for the exact source and
 * for the V8 version and flags that made it: the file starts with a line naming the source's sha256 and Node's
 * version, which `requireWithCodeCache` checks before handing the rest to V8, and V8 refuses data made by another
 * version or under other flags (`cachedDataRejected`). In every such case the bundle compiles as it would without a
 * cache, and the status says why (the init log line's `codeCache`).
 */

export type CodeCacheStatus = 'used' | 'rejected' | 'stale' | 'absent'

export interface LoadedModule<T> {
  exports: T
  status: CodeCacheStatus
  /** reading the file and its cache, compiling and running the module body (ms) */
  loadMs: number
  /** the compiled script, for `writeCodeCache` */
  script: Script
  /** the first line the cache must start with for this source under this Node */
  header: string
}

const MAGIC = 'modelpin-code-cache'

/** Where the cache of `file` is kept: beside it. */
export function codeCachePath (file: string): string {
  return `${file}.cache`
}

/** The cache's first line for `source` under the running Node. */
export function codeCacheHeader (source: string | Buffer): string {
  return `${MAGIC} ${createHash('sha256').update(source).digest('hex')} ${process.version}\n`
}

/** V8's data from the cache beside `file` when it starts with `header`; 'stale' when it starts otherwise; none: undefined. */
function cachedData (file: string, header: string): Buffer | 'stale' | undefined {
  let cache: Buffer
  try {
    cache = readFileSync(codeCachePath(file))
  } catch {
    return undefined
  }
  return cache.subarray(0, header.length).toString('latin1') === header ? cache.subarray(header.length) : 'stale'
}

/** Whether the cache beside `file` was made from exactly this file under the running Node. */
export function codeCacheMatches (file: string): boolean {
  try {
    return cachedData(file, codeCacheHeader(readFileSync(file))) instanceof Buffer
  } catch {
    return false
  }
}

/**
 * Loads the CommonJS file `file` as Node's loader would (module, exports, require beside it), compiled from its code
 * cache when one matches; `ignoreCache` compiles it from source (to make a new cache).
 */
export function requireWithCodeCache<T> (file: string, options: { ignoreCache?: boolean } = {}): LoadedModule<T> {
  const started = performance.now()
  const source = readFileSync(file, 'utf8')
  const header = codeCacheHeader(source)
  const found = options.ignoreCache === true ? undefined : cachedData(file, header)
  const data = found instanceof Buffer ? found : undefined
  // Node's own CommonJS wrapper; the bundle has no dynamic import() (the build turns them into require), so the
  // script needs no module loader of its own.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: file, cachedData: data })
  const status: CodeCacheStatus = data === undefined ? (found === 'stale' ? 'stale' : 'absent') : script.cachedDataRejected === true ? 'rejected' : 'used'
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: { exports: unknown }, filename: string, dirname: string) => void
  const module = { exports: {} as unknown }
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, dirname(file))
  const loadMs = performance.now() - started
  setStatus({ status, loadMs: Math.round(loadMs) })
  return { exports: module.exports as T, status, loadMs, script, header }
}

/**
 * Writes the code cache of a loaded module beside its file (under a temporary name, then renamed). Called after the
 * module has run what it should: the functions compiled by then are in the cache.
 */
export function writeCodeCache (file: string, loaded: LoadedModule<unknown>): number {
  const data = loaded.script.createCachedData()
  const temporary = `${codeCachePath(file)}.${process.pid}.tmp`
  writeFileSync(temporary, Buffer.concat([Buffer.from(loaded.header, 'latin1'), data]))
  renameSync(temporary, codeCachePath(file))
  return data.byteLength
}

// The entry point (lambda/index.ts) loads the function and the function logs the status: two bundles, each with its
// own copy of this module, so the status is kept on globalThis.
const SLOT = Symbol.for('modelpin.code-cache')
type Slot = { status: CodeCacheStatus, loadMs: number }

function setStatus (status: Slot): void {
  (globalThis as Record<symbol, Slot | undefined>)[SLOT] = status
}

/** How this process loaded the function (for the init log line); undefined when it was not loaded through here. */
export function codeCacheStatus (): Slot | undefined {
  return (globalThis as Record<symbol, Slot | undefined>)[SLOT]
}
