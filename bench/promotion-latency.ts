/**
 * What a promotion costs the traffic it does not concern: one client invokes the function's `live` alias back to
 * back (the benchmark image, the full-size ResNet-50 on the local stack), first in a quiet window, then across
 * promotions of fresh releases (each a new Lambda version whose model no environment has loaded yet).
 *
 * - `promotion_latency_ratio`: p99 of the client's Invoke round trips in the promotion windows (from the moment the
 *   promote request is sent until AFTER_PROMOTION invocations after it answered) / their p99 in the quiet window.
 *   Goal <= 2.0: with warm-up (the model's `prewarm`, 1 here, one client) the first invocations of the new version
 *   find its model loaded; without it the first one waits for a cold start and a model load.
 * - `promotion_cold_starts`: answers of the client in the promotion windows that were a cold start (should be 0).
 *
 *   npx tsx bench/promotion-latency.ts
 */
import { InvokeCommand } from '@aws-sdk/client-lambda'
import { freshReleases } from './lib/fresh-release.js'
import { startBenchStack } from './lib/local-stack.js'
import { percentile, round } from './lib/stats.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

type Figures = Record<string, number | string>

/** Invocations of the quiet window, after WARM unmeasured ones; promotions measured; invocations after each answered. */
const QUIET = 150
const WARM = 10
const PROMOTIONS = 6
const AFTER_PROMOTION = 20

export default async function run (): Promise<Figures> {
  const log = (message: string): void => console.log(`  [promotion-latency] ${message}`)
  const bench = await startBenchStack((line) => log(`stack: ${line}`))
  try {
    const { stack, lambda, api, image } = bench
    const model = `/v1/models/${stack.info.model.name}`
    const alias = `${model}/aliases/${stack.info.model.deployAlias}`
    const prewarm = (await api('GET', model) as { prewarm: number }).prewarm
    const freshRelease = await freshReleases(bench)

    const payload = Buffer.from(JSON.stringify({ image }))
    const invokeLive = async (): Promise<{ ms: number, coldStart: boolean }> => {
      const started = performance.now()
      const response = await lambda.send(new InvokeCommand({ FunctionName: stack.info.function.name, Qualifier: stack.info.function.alias, Payload: payload }))
      const ms = performance.now() - started
      if (response.FunctionError !== undefined) throw new Error(`live answered a function error: ${Buffer.from(response.Payload ?? []).toString()}`)
      const body = JSON.parse(Buffer.from(response.Payload ?? []).toString()) as { environment: { coldStart: boolean } }
      return { ms, coldStart: body.environment.coldStart }
    }

    log(`quiet window: ${WARM} unmeasured, then ${QUIET} invocations of live back to back`)
    for (let i = 0; i < WARM; i++) await invokeLive()
    const quiet: number[] = []
    for (let i = 0; i < QUIET; i++) quiet.push((await invokeLive()).ms)

    log(`${PROMOTIONS} promotions of fresh releases (prewarm ${prewarm}), the client invoking live throughout`)
    const windows: number[] = []
    let coldStarts = 0
    for (let i = 0; i < PROMOTIONS; i++) {
      const release = await freshRelease(i % 2 === 0 ? 2 : 1, `bench promotion latency ${i}`)
      let answered = false
      const promotion = api('POST', `${alias}/promote`, { release, reason: 'bench: promotion latency' })
        .finally(() => { answered = true })
      for (let after = 0; after < AFTER_PROMOTION;) {
        const sample = await invokeLive()
        windows.push(sample.ms)
        if (sample.coldStart) coldStarts++
        if (answered) after++
      }
      const moved = await promotion as { release: number }
      if (moved.release !== release) throw new Error(`promotion ${i} moved to ${moved.release}, not ${release}`)
    }

    const quietP99 = percentile(quiet, 99)
    const windowP99 = percentile(windows, 99)
    log(`quiet p99 ${round(quietP99, 1)} ms over ${quiet.length}; promotion windows p99 ${round(windowP99, 1)} ms over ${windows.length}, ` +
      `max ${round(Math.max(...windows), 1)} ms; ${coldStarts} cold starts`)
    return {
      promotion_latency_ratio: windowP99 / quietP99,
      promotion_window_p99_ms: windowP99,
      quiet_p99_ms: quietP99,
      promotion_cold_starts: coldStarts,
      promotion_latency_method: `one client invoking live back to back: p99 over ${PROMOTIONS} promotions of fresh releases ` +
        `(from each promote request until ${AFTER_PROMOTION} invocations after it answered, prewarm ${prewarm}) / p99 of ${QUIET} quiet invocations`,
    }
  } finally {
    await bench.close()
  }
}

printWhenRunDirectly(import.meta.url, run)
