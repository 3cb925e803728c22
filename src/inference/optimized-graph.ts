import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ModelPin } from '../contract/pin.js'
import type { SessionSettings } from './classifier.js'

/**
 * Derived optimised graphs: the graph ONNX Runtime made of a pinned weights version, saved in ORT format and kept in
 * S3 beside the weights, so that the next cold start skips the optimisation.
 *
 * Creating a session from the pinned ONNX weights is mostly graph optimisation (level `all`: constant folding,
 * fusions, the NCHWc layout for this CPU's vector width) and copies of the 100 MB of initializers. ONNX Runtime can
 * save the graph it optimised; loaded back in ORT format with optimisation `disabled` and the initializers used in
 * place from the downloaded bytes (`session.use_ort_model_bytes_directly`), a session of a ResNet-50 is created in
 * about 60 ms instead of 200-600 ms, runs as fast and gives the same scores, and the process holds one copy of the
 * weights instead of two (bench/inference.ts measures all of it).
 *
 * Such a graph is specific to what made it: ONNX Runtime's version, the CPU's instruction sets (the NCHWc block
 * size follows AVX2 or AVX-512) and the optimisation level. All of it is in the object's key, so that functions on
 * different CPUs (Lambda's fleet is not uniform) or runtimes keep one graph each instead of replacing each other's,
 * and again in its metadata, with the sha256 of the weights it was made from and its own sha256, which the loader
 * verifies as it does the weights'. Anything that does not match (or is missing, unreadable or refused by ONNX
 * Runtime) falls back to the pinned weights, and that load writes a fresh graph (mode `readwrite`). The pinned
 * weights stay the truth: the key names their VersionId, which S3 never changes, and a pin's sha256 must match.
 *
 * This module imports nothing but Node's own: the function's early read (early-read.ts) names the graph with it
 * before the AWS SDK is loaded. The loader (model-loader.ts) reads and writes the graphs.
 */

/** `readwrite`: use a matching graph, write one when there is none; `read`: never write; `off`: weights only. */
export type OptimizedGraphMode = 'readwrite' | 'read' | 'off'
export const OPTIMIZED_GRAPH_MODES: readonly OptimizedGraphMode[] = ['readwrite', 'read', 'off']

/** Every derived graph lives under this prefix of the model bucket: the function's role may write there and nowhere else in it. */
export const OPTIMIZED_GRAPH_PREFIX = 'modelpin-optimized/'

/** What a saved graph is specific to. */
export interface GraphSignature {
  ortVersion: string
  arch: string
  /** 16 hex digits of the sha256 of the CPU's instruction-set flags. */
  cpu: string
  level: SessionSettings['graphOptimizationLevel']
}

/** The user metadata of a derived graph object (S3 lowercases the names). */
export const GRAPH_METADATA = {
  sha256: 'modelpin-sha256',
  weightsSha256: 'modelpin-weights-sha256',
  weightsVersionId: 'modelpin-weights-version-id',
  ortVersion: 'modelpin-ort-version',
  cpu: 'modelpin-cpu',
  level: 'modelpin-graph-optimization',
} as const

let ortVersion: string | undefined

/** onnxruntime-node's version, read from its package.json (importing the runtime itself takes 50-100 ms). */
export function onnxRuntimeVersion (): string {
  if (ortVersion === undefined) {
    const file = createRequire(import.meta.url).resolve('onnxruntime-node/package.json')
    ortVersion = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  }
  return ortVersion
}

let cpuSignature: string | undefined

/**
 * The CPU's instruction sets as 16 hex digits: the sorted `flags` of /proc/cpuinfo on Linux (what ONNX Runtime's
 * kernels dispatch on), the CPU's model name elsewhere.
 */
export function cpuFlagsSignature (): string {
  if (cpuSignature === undefined) {
    let description = cpus()[0]?.model ?? 'unknown'
    try {
      const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]
      if (flags !== undefined) description = flags.trim().split(/\s+/).sort().join(' ')
    } catch {}
    cpuSignature = createHash('sha256').update(description).digest('hex').slice(0, 16)
  }
  return cpuSignature
}

/** This process's signature for graphs optimised at `level`. */
export function runtimeSignature (level: GraphSignature['level']): GraphSignature {
  return { ortVersion: onnxRuntimeVersion(), arch: process.arch, cpu: cpuFlagsSignature(), level }
}

/** `modelpin-optimized/<weights key>/<weights VersionId>/ort-<version>-<arch>-<cpu>-<level>.ort` */
export function optimizedGraphKey (pin: Pick<ModelPin, 'weightsKey' | 'weightsVersionId'>, signature: GraphSignature): string {
  const { ortVersion, arch, cpu, level } = signature
  return `${OPTIMIZED_GRAPH_PREFIX}${pin.weightsKey}/${pin.weightsVersionId}/ort-${ortVersion}-${arch}-${cpu}-${level}.ort`
}

/** Why a derived graph is not used; the load falls back to the pinned weights. */
export class UnusableGraphError extends Error {
  override name = 'UnusableGraphError'
}

/**
 * Checks a derived graph's metadata (from the response headers, before its bytes are read) against the pin and
 * this process's signature; returns the sha256 the bytes must have.
 */
export function checkGraphMetadata (metadata: Record<string, string>, pin: ModelPin, signature: GraphSignature): string {
  const expect = (name: keyof typeof GRAPH_METADATA, value: string): void => {
    const found = metadata[GRAPH_METADATA[name]]
    if (found !== value) throw new UnusableGraphError(`its ${GRAPH_METADATA[name]} is ${JSON.stringify(found ?? null)}, not ${JSON.stringify(value)}`)
  }
  expect('weightsVersionId', pin.weightsVersionId)
  expect('ortVersion', signature.ortVersion)
  expect('cpu', signature.cpu)
  expect('level', signature.level)
  if (pin.weightsSha256 !== undefined) expect('weightsSha256', pin.weightsSha256)
  const sha256 = metadata[GRAPH_METADATA.sha256]
  const weightsSha256 = metadata[GRAPH_METADATA.weightsSha256]
  if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) throw new UnusableGraphError(`it has no valid ${GRAPH_METADATA.sha256}`)
  if (weightsSha256 === undefined || !/^[0-9a-f]{64}$/.test(weightsSha256)) throw new UnusableGraphError(`it has no valid ${GRAPH_METADATA.weightsSha256}`)
  return sha256
}

/** A temporary file for ONNX Runtime to save a graph into; `remove` deletes it and its folder. */
export async function graphTempFile (): Promise<{ path: string, remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-graph-'))
  return { path: join(dir, 'optimized.ort'), remove: async () => await rm(dir, { recursive: true, force: true }) }
}
