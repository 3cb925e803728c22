/**
 * How long an evaluation of 100 inputs takes: release 2 against release 1 of the full-size ResNet-50 on the local
 * stack, 100 photo-like 500x375 JPEGs (red, green and blue in turn), the API's default concurrency (4 invocations in
 * flight, both releases together). Timed from the POST to the moment a read finds it ended (reads every 100 ms).
 *
 * - `evaluation_100_inputs_s`: wall time of the whole evaluation (both versions' cold starts included)
 * - `evaluation_ms_per_input`: the same per input (two invocations each)
 * - `evaluation_candidate_p50_ms`, `evaluation_baseline_p50_ms`: the warm Invoke round trips it reports
 *
 *   npx tsx bench/evaluation.ts            (BENCH_MODEL=tiny for the tiny model)
 */
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { photoLikeJpeg } from '../scripts/generate-fixtures.js'
import { startBenchStack } from './lib/local-stack.js'
import { printWhenRunDirectly } from './lib/run-directly.js'

type Figures = Record<string, number | string>

const INPUTS = 100
const TINTS = ['red', 'green', 'blue'] as const

export default async function run (): Promise<Figures> {
  const log = (message: string): void => console.log(`  [evaluation] ${message}`)
  const modelKind = process.env.BENCH_MODEL === 'tiny' ? 'tiny' : 'resnet50'
  const bench = await startBenchStack((line) => log(`stack: ${line}`), { modelKind })
  try {
    const { stack, s3, image, api } = bench
    log(`putting ${INPUTS} photos into ${image.bucket}/eval/`)
    for (let i = 0; i < INPUTS; i++) {
      const body = await photoLikeJpeg(500, 375, 1000 + i, TINTS[i % TINTS.length])
      await s3.send(new PutObjectCommand({ Bucket: image.bucket, Key: `eval/${String(i).padStart(3, '0')}.jpg`, Body: body, ContentType: 'image/jpeg' }))
    }
    const model = `/v1/models/${stack.info.model.name}`
    log(`evaluating release 2 against release 1 on ${INPUTS} inputs (${modelKind})`)
    const started = performance.now()
    const created = await api('POST', `${model}/evaluations`, { candidate: 2, inputs: { bucket: image.bucket, prefix: 'eval/', limit: INPUTS }, reason: 'bench' }) as { id: string }
    let evaluation: any
    for (;;) {
      evaluation = await api('GET', `${model}/evaluations/${created.id}`)
      if (evaluation.status !== 'running') break
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const seconds = (performance.now() - started) / 1000
    if (evaluation.status !== 'succeeded') throw new Error(`the evaluation ended ${String(evaluation.status)}: ${String(evaluation.failure)}`)
    return {
      evaluation_model: modelKind,
      evaluation_100_inputs_s: seconds,
      evaluation_ms_per_input: seconds * 1000 / INPUTS,
      evaluation_candidate_p50_ms: evaluation.latencyMs.candidate?.p50 ?? -1,
      evaluation_baseline_p50_ms: evaluation.latencyMs.baseline?.p50 ?? -1,
      evaluation_top1_agreement: evaluation.agreement?.top1 ?? -1,
    }
  } finally {
    await bench.close()
  }
}

printWhenRunDirectly(import.meta.url, run)
