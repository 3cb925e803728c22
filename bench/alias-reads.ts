/**
 * Alias reads against Lambda's control-plane budget: 10 clients read the deploy alias (`GET .../aliases/production`,
 * which shows what Lambda serves) as fast as they can for 10 s, through the admin API of the local stack (tiny model:
 * no invocation is involved) on 127.0.0.1.
 *
 * - `alias_read_lambda_calls_per_second`: Lambda control-plane calls (GetAlias, GetFunctionConfiguration) the API made
 *   meanwhile, from its `modelpin_lambda_calls_total`, per second. Goal: at most one alias read per
 *   `MODELPIN_LIVE_CACHE_MS` (default 2 s) plus each published version's configuration once, about 0.5/s.
 * - `alias_reads_per_second`, `alias_read_p50_ms`, `alias_read_p99_ms`: the readers' throughput and latency.
 *
 *   npx tsx bench/alias-reads.ts
 */
import { metricSum } from './lib/api-metrics.js'
import { startBenchStack } from './lib/local-stack.js'
import { printWhenRunDirectly } from './lib/run-directly.js'
import { median, percentile, round } from './lib/stats.js'

type Figures = Record<string, number | string>

const CLIENTS = 10
const SECONDS = 10

export default async function run (): Promise<Figures> {
  const log = (message: string): void => console.log(`  [alias-reads] ${message}`)
  const bench = await startBenchStack((line) => log(`stack: ${line}`), { modelKind: 'tiny' })
  try {
    const { stack } = bench
    const apiUrl = stack.info.endpoints.api
    const url = `${apiUrl}/v1/models/${stack.info.model.name}/aliases/${stack.info.model.deployAlias}`
    const headers = { authorization: `Bearer ${stack.token}` }
    const served = await bench.api('GET', `/v1/models/${stack.info.model.name}/aliases/${stack.info.model.deployAlias}`) as { live: { functionVersion: string } | null }
    if (served.live === null) throw new Error('the deploy alias shows no live Lambda state')

    log(`${CLIENTS} clients read the deploy alias for ${SECONDS} s`)
    const callsBefore = await metricSum(apiUrl, 'modelpin_lambda_calls_total')
    const started = performance.now()
    const until = started + SECONDS * 1000
    const latencies: number[] = []
    let failures = 0
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        const sent = performance.now()
        const response = await fetch(url, { headers })
        const body = await response.json() as { live: { functionVersion: string } | null }
        latencies.push(performance.now() - sent)
        if (response.status !== 200 || body.live?.functionVersion !== served.live!.functionVersion) failures++
      }
    }))
    const seconds = (performance.now() - started) / 1000
    const calls = await metricSum(apiUrl, 'modelpin_lambda_calls_total') - callsBefore
    if (failures > 0) throw new Error(`${failures} of ${latencies.length} alias reads failed or showed another version`)

    const figures = {
      alias_read_lambda_calls_per_second: calls / seconds,
      alias_reads_per_second: latencies.length / seconds,
      alias_read_p50_ms: median(latencies),
      alias_read_p99_ms: percentile(latencies, 99),
    }
    log(`${latencies.length} reads in ${round(seconds, 1)} s (${round(figures.alias_reads_per_second, 0)}/s, p99 ` +
      `${round(figures.alias_read_p99_ms, 1)} ms) made ${calls} Lambda calls (${round(figures.alias_read_lambda_calls_per_second, 2)}/s)`)
    return {
      ...figures,
      alias_reads_method: `${CLIENTS} clients reading the deploy alias over HTTP for ${SECONDS} s, MODELPIN_LIVE_CACHE_MS at its default; ` +
        'Lambda calls from the API\'s modelpin_lambda_calls_total',
    }
  } finally {
    await bench.close()
  }
}

printWhenRunDirectly(import.meta.url, run)
