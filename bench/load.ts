/**
 * A load run on the admin API of the local stack (tiny model) on 127.0.0.1: autocannon with 10 connections for 30 s,
 * each cycling through alias reads (which show what Lambda serves), weights version lists, alias history and moves
 * (promotes to release 2 and back to release 1, about one request in ten; concurrent moves of the one alias answer
 * `409 alias_busy`, as they should).
 *
 * - `load_requests_per_second`, `load_p99_ms`: autocannon's average requests per second and p99 latency.
 * - `load_5xx`: answers with a 5xx status (goal: none); `load_errors`: connection errors and timeouts.
 * - `load_moves_succeeded`: moves that succeeded meanwhile (from the API's `modelpin_promotions_total`).
 * The run ends by itself; the alias must show no drift afterwards.
 *
 *   npx tsx bench/load.ts
 */
import { createRequire } from 'node:module'
import { startBenchStack } from './lib/local-stack.js'
import { printWhenRunDirectly } from './lib/run-directly.js'
import { round } from './lib/stats.js'

type Figures = Record<string, number | string>

const CONNECTIONS = 10
const SECONDS = 30

interface Request { method: 'GET' | 'POST', path: string, body?: string, headers?: Record<string, string> }
interface Result {
  requests: { average: number, total: number }
  latency: { p50: number, p99: number }
  '2xx': number
  '4xx': number
  '5xx': number
  errors: number
  timeouts: number
  statusCodeStats: Record<string, { count: number }>
}
type Autocannon = (options: {
  url: string, connections: number, duration: number, headers: Record<string, string>, requests: Request[]
}) => Promise<Result>

// autocannon is CommonJS without type declarations: loaded through require, typed by what this file uses
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon

export default async function run (): Promise<Figures> {
  const log = (message: string): void => console.log(`  [load] ${message}`)
  const bench = await startBenchStack((line) => log(`stack: ${line}`), { modelKind: 'tiny' })
  try {
    const { stack, api } = bench
    const apiUrl = stack.info.endpoints.api
    const model = `/v1/models/${stack.info.model.name}`
    const alias = `${model}/aliases/${stack.info.model.deployAlias}`
    // publish release 2's version before the run, so every move during it is a warm-up and an alias move
    await api('POST', `${alias}/promote`, { release: 2, reason: 'bench load: publish release 2' })
    await api('POST', `${alias}/promote`, { release: 1, reason: 'bench load: back to release 1' })

    const json = { 'content-type': 'application/json' }
    const read: Request[] = [
      { method: 'GET', path: alias },
      { method: 'GET', path: `${model}/artifacts/weights/versions` },
      { method: 'GET', path: `${alias}/history?limit=20` },
    ]
    const requests: Request[] = [
      ...read, ...read, ...read,
      { method: 'POST', path: `${alias}/promote`, body: JSON.stringify({ release: 2, reason: 'bench load' }), headers: json },
      ...read, ...read, ...read,
      { method: 'POST', path: `${alias}/promote`, body: JSON.stringify({ release: 1, reason: 'bench load' }), headers: json },
    ]
    const movesBefore = await promotions(apiUrl)
    log(`${CONNECTIONS} connections for ${SECONDS} s: alias reads, version lists, history, promotes (1 in 10)`)
    const result = await autocannon({
      url: apiUrl, connections: CONNECTIONS, duration: SECONDS, headers: { authorization: `Bearer ${stack.token}` }, requests,
    })
    const moves = await promotions(apiUrl) - movesBefore
    const view = await api('GET', alias) as { drift: boolean }
    if (view.drift) throw new Error('the registry and Lambda disagree after the load run')

    const statuses = Object.entries(result.statusCodeStats).map(([status, { count }]) => `${status}: ${count}`).join(', ')
    log(`${result.requests.total} requests, ${round(result.requests.average, 0)}/s, p99 ${result.latency.p99} ms; ` +
      `statuses ${statuses}; ${result['5xx']} 5xx, ${result.errors} errors, ${result.timeouts} timeouts; ${moves} moves succeeded`)
    return {
      load_requests_per_second: result.requests.average,
      load_p50_ms: result.latency.p50,
      load_p99_ms: result.latency.p99,
      load_5xx: result['5xx'],
      load_errors: result.errors + result.timeouts,
      load_moves_succeeded: moves,
      load_statuses: statuses,
      load_method: `autocannon, ${CONNECTIONS} connections for ${SECONDS} s on 127.0.0.1, each cycling 9 alias reads, 9 weights ` +
        'version lists, 9 history reads (limit 20) and 2 promotes (to release 2, back to 1); tiny model',
    }
  } finally {
    await bench.close()
  }
}

/** Alias moves that succeeded so far, from the API's /metrics. */
async function promotions (apiUrl: string): Promise<number> {
  const response = await fetch(`${apiUrl}/metrics`)
  const lines = (await response.text()).split('\n').filter((line) => line.startsWith('modelpin_promotions_total{') && line.includes('outcome="succeeded"'))
  return lines.reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0)
}

printWhenRunDirectly(import.meta.url, run)
