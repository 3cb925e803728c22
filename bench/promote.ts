/**
 * Promote and rollback end to end: an admin API request (HTTP, auth, registry on SQLite) that pushes the alias to
 * the function through the local Lambda runtime, with the local stack on the full-size ResNet-50 as `npm start` runs
 * it (temporary data dir, unique buckets, free ports, the running radosgw).
 *
 * - `promote_ms`: p50 of promoting a release that was never published: the deployer reads the configuration, sets
 *   the release's pins, waits for the update (the runtime keeps `LastUpdateStatus` InProgress for
 *   MODELPIN_LAMBDA_UPDATE_MS, 1000 ms by default, as Lambda keeps it for a second or more), publishes a version and
 *   moves the alias. A release promoted once already has its
 *   version, so promoting it again is only an alias move; every measured promote is therefore of a fresh release:
 *   a new labels version (the same bytes uploaded again, so a new S3 VersionId) paired with weights 1 or 2.
 * - `rollback_over_promote_ratio`: p50 of the rollback that follows each promote (back to the previous release,
 *   whose version exists: an alias move, no configuration update, no new version) / `promote_ms`. Goal <= 0.3.
 * Upload and release registration happen between the timed calls and are not part of any figure. The benchmark
 * checks that every promote published exactly one version and no rollback published any.
 *
 *   npx tsx bench/promote.ts
 */
import { ListVersionsByFunctionCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { STACK_DEFAULTS } from '../src/local/stack.js'
import { freshReleases } from './lib/fresh-release.js'
import { startBenchStack } from './lib/local-stack.js'
import { median, percentile, round } from './lib/stats.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

type Figures = Record<string, number | string>

/** Promote + rollback pairs measured, after WARMUP unmeasured ones: about 0.5 s a pair. */
const PAIRS = 50
const WARMUP = 3

export default async function run (): Promise<Figures> {
  const log = (message: string): void => console.log(`  [promote] ${message}`)
  const bench = await startBenchStack((line) => log(`stack: ${line}`))
  try {
    const { stack, lambda, api } = bench
    const model = `/v1/models/${stack.info.model.name}`
    const alias = `${model}/aliases/${stack.info.model.deployAlias}`
    const freshRelease = await freshReleases(bench)
    const timed = async (path: string, body: unknown): Promise<{ ms: number, moved: { release: number } }> => {
      const started = performance.now()
      const moved = await api('POST', path, body) as { release: number }
      return { ms: performance.now() - started, moved }
    }

    const versionsBefore = await publishedVersions(lambda, stack.info.function.name)
    const promotes: number[] = []
    const rollbacks: number[] = []
    log(`${WARMUP} warm-up pairs, then ${PAIRS} measured pairs (promote a fresh release, roll it back)`)
    for (let i = 0; i < WARMUP + PAIRS; i++) {
      const previous = (await api('GET', alias) as { release: number }).release
      const release = await freshRelease(i % 2 === 0 ? 1 : 2, `bench promote ${i}`)
      const promoted = await timed(`${alias}/promote`, { release, reason: 'bench: promote' })
      const rolledBack = await timed(`${alias}/rollback`, { reason: 'bench: rollback' })
      if (promoted.moved.release !== release || rolledBack.moved.release !== previous) {
        throw new Error(`pair ${i}: promote moved to ${promoted.moved.release} (wanted ${release}), rollback to ${rolledBack.moved.release} (wanted ${previous})`)
      }
      if (i >= WARMUP) {
        promotes.push(promoted.ms)
        rollbacks.push(rolledBack.ms)
      }
    }
    const published = (await publishedVersions(lambda, stack.info.function.name)) - versionsBefore
    if (published !== WARMUP + PAIRS) throw new Error(`${WARMUP + PAIRS} promotes and as many rollbacks published ${published} versions`)
    const view = await api('GET', alias) as { drift: boolean }
    if (view.drift) throw new Error('the registry and Lambda disagree after the benchmark')

    log(`promote p50 ${round(median(promotes), 1)} ms, p99 ${round(percentile(promotes, 99), 1)} ms; ` +
      `rollback p50 ${round(median(rollbacks), 1)} ms, p99 ${round(percentile(rollbacks, 99), 1)} ms; ${published} versions published`)
    return {
      promote_ms: median(promotes),
      promote_p99_ms: percentile(promotes, 99),
      rollback_ms: median(rollbacks),
      rollback_p99_ms: percentile(rollbacks, 99),
      rollback_over_promote_ratio: median(rollbacks) / median(promotes),
      promote_method: `${PAIRS} pairs through the admin API and the local runtime: promote a never-published release ` +
        '(update configuration, wait, publish, warm the new version with the model\'s prewarm invocations (a cold ' +
        'ResNet-50 load), move alias), then roll back (alias move only); the runtime holds ' +
        `LastUpdateStatus InProgress ${STACK_DEFAULTS.lambdaUpdateMs} ms after each update (MODELPIN_LAMBDA_UPDATE_MS)`,
    }
  } finally {
    await bench.close()
  }
}

async function publishedVersions (lambda: LambdaClient, functionName: string): Promise<number> {
  let count = 0
  let marker: string | undefined
  do {
    const page = await lambda.send(new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }))
    count += (page.Versions ?? []).filter((v) => v.Version !== '$LATEST').length
    marker = page.NextMarker
  } while (marker !== undefined)
  return count
}

printWhenRunDirectly(import.meta.url, run)
