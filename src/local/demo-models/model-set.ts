/**
 * The demo model set: two weights versions and two labels versions generated from a seed, written to a folder and
 * reused while its manifest still matches. Nothing can be downloaded on these machines, so the ONNX bytes are built
 * here (resnet.ts); classes.ts documents the predictions they give.
 *
 * Programs (`npm run model:demo`, the local stack) call `generateModelSet`; tests that only need the tiny model in
 * memory call `buildModel` directly.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { DEMO_VERSIONS, labelsText } from './classes.js'
import { buildModel, type ModelKind } from './resnet.js'

/** Bumped whenever the generator's output changes, so an existing set from an older generator is rebuilt. */
export const GENERATOR_VERSION = 2
export const DEFAULT_SEED: Record<ModelKind, number> = { resnet50: 50, tiny: 7 }
export const DEFAULT_OUT_DIR: Record<ModelKind, string> = {
  resnet50: '.modelpin/models/resnet50',
  tiny: '.modelpin/models/tiny',
}

export interface GenerateModelSetOptions {
  kind: ModelKind
  outDir?: string
  seed?: number
  /** Progress lines for people (the ResNet-50 takes several seconds); silent when absent. */
  onProgress?: (message: string) => void
}

export interface ModelSet {
  /** Absolute paths of weights version 1 and 2. */
  weights: string[]
  /** Absolute paths of labels version 1 and 2. */
  labels: string[]
  /** sha256 (lowercase hex) by absolute path. */
  sha256: Record<string, string>
}

interface Manifest {
  generator: number
  kind: ModelKind
  seed: number
  files: Record<string, { size: number, sha256: string }>
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Writes (or keeps, when identical files are already there) the two weights and two labels versions of `kind`. */
export async function generateModelSet (options: GenerateModelSetOptions): Promise<ModelSet> {
  const { kind } = options
  const seed = options.seed ?? DEFAULT_SEED[kind]
  const outDir = resolve(options.outDir ?? DEFAULT_OUT_DIR[kind])
  const progress = options.onProgress ?? (() => {})
  const names = {
    weights: DEMO_VERSIONS.map((v) => `model-v${v}.onnx`),
    labels: DEMO_VERSIONS.map((v) => `labels-v${v}.txt`),
  }
  const set = (manifest: Manifest): ModelSet => ({
    weights: names.weights.map((n) => join(outDir, n)),
    labels: names.labels.map((n) => join(outDir, n)),
    sha256: Object.fromEntries(Object.entries(manifest.files).map(([n, f]) => [join(outDir, n), f.sha256])),
  })

  const existing = await readManifest(outDir)
  if (existing !== undefined && existing.generator === GENERATOR_VERSION && existing.kind === kind &&
    existing.seed === seed && await filesMatch(outDir, existing)) {
    progress(`${kind}: ${outDir} is up to date (seed ${seed})`)
    return set(existing)
  }

  await mkdir(outDir, { recursive: true })
  const manifest: Manifest = { generator: GENERATOR_VERSION, kind, seed, files: {} }
  for (const version of DEMO_VERSIONS) {
    const started = performance.now()
    const { bytes, parameterCount } = buildModel(kind, version, seed, (done) => {
      if (kind === 'resnet50') progress(`${kind} v${version}: ${Math.round(done * 100)}%`)
    })
    const name = `model-v${version}.onnx`
    await writeAtomically(join(outDir, name), bytes)
    manifest.files[name] = { size: bytes.byteLength, sha256: sha256(bytes) }
    progress(`${kind} v${version}: ${name}, ${(bytes.byteLength / 1e6).toFixed(1)} MB, ` +
      `${(parameterCount / 1e6).toFixed(2)} M parameters, ${Math.round(performance.now() - started)} ms`)
  }
  for (const version of DEMO_VERSIONS) {
    const name = `labels-v${version}.txt`
    const bytes = Buffer.from(labelsText(version))
    await writeAtomically(join(outDir, name), bytes)
    manifest.files[name] = { size: bytes.byteLength, sha256: sha256(bytes) }
  }
  await writeAtomically(join(outDir, 'manifest.json'), Buffer.from(JSON.stringify(manifest, null, 2) + '\n'))
  progress(`${kind}: wrote ${outDir}`)
  return set(manifest)
}

async function readManifest (dir: string): Promise<Manifest | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Manifest
  } catch {
    return undefined
  }
}

async function filesMatch (dir: string, manifest: Manifest): Promise<boolean> {
  for (const [name, expected] of Object.entries(manifest.files)) {
    try {
      const bytes = await readFile(join(dir, name))
      if (bytes.byteLength !== expected.size || sha256(bytes) !== expected.sha256) return false
    } catch {
      return false
    }
  }
  return Object.keys(manifest.files).length === DEMO_VERSIONS.length * 2
}

/** Rename over the target so a reader (or an interrupted run) never sees half a model. */
async function writeAtomically (path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`
  await writeFile(temporary, bytes)
  await rename(temporary, path)
}
