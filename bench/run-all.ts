/**
 * `npm run bench`: runs every benchmark in bench/ one after another on this machine and writes
 * bench/results/latest.json = { meta: {...}, <figure>: number, ... } (the keys and goals are in the README).
 * Each benchmark measures its own baseline in the same run, so its ratios hold on a noisy machine.
 * `npm run bench -- inference list-versions` runs only the named ones.
 */
import { execFileSync } from 'node:child_process'
import { readdir, mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const benchDir = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(benchDir, '..')

type Figures = Record<string, number | string>

async function main (): Promise<void> {
  const only = process.argv.slice(2)
  const names = (await readdir(benchDir))
    .filter((f) => f.endsWith('.ts') && f !== 'run-all.ts')
    .map((f) => f.slice(0, -3))
    .filter((n) => only.length === 0 || only.includes(n))
    .sort()
  if (names.length === 0) throw new Error(`no benchmark matches ${only.join(', ')}`)

  // radosgw must answer before any benchmark touches S3; `ensure` leaves a running one alone.
  execFileSync('bash', [path.join(root, 'scripts/local-s3.sh'), 'ensure'], { stdio: 'inherit' })

  const figures: Figures = {}
  const durations: Record<string, number> = {}
  for (const name of names) {
    console.log(`\n== bench/${name}.ts`)
    const started = performance.now()
    const mod = await import(pathToFileURL(path.join(benchDir, `${name}.ts`)).href) as { default: () => Promise<Figures> }
    const result = await mod.default()
    durations[name] = Math.round((performance.now() - started) / 100) / 10
    for (const [key, value] of Object.entries(result)) {
      figures[key] = value
      console.log(`  ${key.padEnd(36)} ${typeof value === 'number' ? round(value) : value}`)
    }
  }

  const cpus = os.cpus()
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    benchmarks: names,
    secondsPerBenchmark: durations,
  }
  const out = path.join(benchDir, 'results', 'latest.json')
  await mkdir(path.dirname(out), { recursive: true })
  await writeFile(out, JSON.stringify({ meta: { ...meta, ...pickMeta(figures) }, ...numbersOnly(figures) }, null, 2) + '\n')
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`)
}

/** Figures that are text (model size, options used) describe the run: they go into meta. */
function pickMeta (figures: Figures): Record<string, string> {
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => typeof v === 'string')) as Record<string, string>
}

function numbersOnly (figures: Figures): Record<string, number> {
  return Object.fromEntries(Object.entries(figures).filter(([, v]) => typeof v === 'number')) as Record<string, number>
}

function round (value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 1000) / 1000
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error)
  process.exit(1)
})
