import { Worker } from 'node:worker_threads'

/**
 * Pre-faulting the allocator while a model downloads.
 *
 * Creating a ResNet-50 session in a fresh process takes about 300 ms here, of which about 190 ms are page faults:
 * ONNX Runtime copies the 100 MB of weights several times (protobuf, initializers, fused and re-laid-out
 * weights) into about 270-390 MB of memory the process has never touched. A second session in the same process,
 * reusing memory the allocator already holds, takes about 115 ms. During the download the CPU is mostly idle, so
 * a worker thread touches that much memory and exits, leaving it faulted in the allocator for the session.
 *
 * That only works when glibc keeps freed memory in one arena instead of returning it to the kernel, which is what
 * `PREFAULT_GLIBC_TUNABLES` asks for (set in the function's environment by lambda/Dockerfile; glibc reads it at
 * process start). Without it `allocatorRetainsMemory` is false and the loader skips the pre-fault.
 */
export const PREFAULT_GLIBC_TUNABLES = [
  // Allocations of any size come from the heap (not mmap, which munmap would hand back on free) ...
  'glibc.malloc.mmap_threshold=1073741824',
  // ... freed heap memory is kept rather than trimmed ...
  'glibc.malloc.trim_threshold=1073741824',
  // ... and in one arena, so memory a worker thread freed serves the main thread's next allocations.
  'glibc.malloc.arena_max=1',
].join(':')

/** Memory a session's creation touches for the first time, per byte of ONNX weights (measured: 2.6-3.8 here). */
export const PREFAULT_PER_WEIGHTS_BYTE = 2.6

/** Whether glibc was started with settings under which pre-faulted memory stays available to the next allocations. */
export function allocatorRetainsMemory (env: Record<string, string | undefined>): boolean {
  if (process.platform !== 'linux') return false
  const tunables = new Map((env.GLIBC_TUNABLES ?? '').split(':').map((t) => t.split('=') as [string, string]))
  const atLeast = (name: string, bytes: number): boolean => Number(tunables.get(name)) >= bytes
  return atLeast('glibc.malloc.mmap_threshold', 256 << 20) && atLeast('glibc.malloc.trim_threshold', 256 << 20) &&
    tunables.get('glibc.malloc.arena_max') === '1'
}

// Touches `bytes` of memory in 4 MiB buffers, then returns; the worker's exit frees them all into the arena.
// Niced to 19 (a Linux thread is addressed by its own id): the pre-fault only takes CPU nobody else wants, so it
// never slows the download it overlaps, even where the S3 server shares the machine.
const WORKER = `
const { workerData } = require('node:worker_threads')
try {
  const tid = Number(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0])
  require('node:os').setPriority(tid, 19)
} catch {}
const shared = new Int32Array(workerData.shared)
const keep = []
const chunk = 4 * 1024 * 1024
for (let done = 0; done < workerData.bytes && Atomics.load(shared, 0) === 0; done += chunk) {
  const b = Buffer.allocUnsafeSlow(chunk)
  for (let i = 0; i < chunk; i += 4096) b[i] = 1
  keep.push(b)
  Atomics.add(shared, 1, 4)
}
`

/** A running pre-fault. */
export interface Prefault {
  /** Resolves when the worker has touched everything and exited. */
  done: Promise<void>
  /** Stops it early (keeping what is already touched); resolves once the worker has exited. */
  finish: () => Promise<void>
}

let prefaulted = 0

/** Bytes the pre-faults of this process have touched so far (under the tunables, all still held by the allocator). */
export function prefaultedBytes (): number {
  return prefaulted
}

/**
 * Starts touching, on a worker thread, the part of `bytes` beyond what earlier pre-faults in this process touched:
 * under PREFAULT_GLIBC_TUNABLES nothing is given back, so an earlier load already left that much in the arena, and
 * touching it again would only grow the process.
 */
export function startPrefault (bytes: number): Prefault {
  const missing = Math.max(0, bytes - prefaulted)
  if (missing <= 0) return { done: Promise.resolve(), finish: async () => {} }
  // [0]: stop flag set by `finish`; [1]: MiB touched, written by the worker.
  const shared = new SharedArrayBuffer(8)
  // execArgv []: the parent's flags (a loader, --input-type=module) are of no use here and would change how the
  // script is read.
  const worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { bytes: missing, shared } })
  const exited = new Promise<void>((resolve) => {
    const ended = (): void => {
      prefaulted += Atomics.load(new Int32Array(shared), 1) * 1024 * 1024
      // V8 frees the worker's buffers as its isolate goes away, partly on background threads: one turn of the
      // event loop lets that finish before the memory is wanted.
      setImmediate(resolve)
    }
    worker.once('exit', ended)
    worker.once('error', () => {})
  })
  return {
    done: exited,
    finish: async () => {
      // A running worker stops after its current 4 MiB; one that has finished has already exited.
      Atomics.store(new Int32Array(shared), 0, 1)
      await exited
    },
  }
}
