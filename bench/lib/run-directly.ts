/** What every benchmark does at its bottom so that `npx tsx bench/<name>.ts` prints its figures. */
import { pathToFileURL } from 'node:url'
import { round } from './stats.js'

type Figures = Record<string, number | string>

/**
 * When `moduleUrl` (the caller's `import.meta.url`) is the script node was started with, runs the benchmark and
 * prints one `key value` line per figure, numbers rounded to 3 decimals; a failure is printed and exits 1.
 * It always exits once done: some benchmarks leave handles open (the local stack's sockets, child processes), and
 * waiting on them would hang a finished run. Imported by bench/run-all.ts instead, it does nothing.
 */
export function printWhenRunDirectly (moduleUrl: string, run: () => Promise<Figures>): void {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return
  run().then((figures) => {
    const width = Math.max(28, ...Object.keys(figures).map((key) => key.length))
    for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(width)} ${typeof value === 'number' ? round(value, 3) : value}`)
    process.exit(0)
  }, (error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
