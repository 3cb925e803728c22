import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { PREFAULT_GLIBC_TUNABLES, allocatorRetainsMemory, prefaultedBytes, startPrefault } from '../src/inference/memory-prefault.js'
import { loadModel } from '../src/inference/model-loader.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'
import { pinOf, uploadTinyModel } from './helpers/models.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')

t.test('the pre-fault is on only under the glibc settings that keep freed memory in one arena', async (t) => {
  t.equal(allocatorRetainsMemory({ GLIBC_TUNABLES: PREFAULT_GLIBC_TUNABLES }), process.platform === 'linux')
  t.equal(allocatorRetainsMemory({}), false)
  t.equal(allocatorRetainsMemory({ GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=1073741824' }), false, 'several arenas')
  t.equal(allocatorRetainsMemory({ GLIBC_TUNABLES: PREFAULT_GLIBC_TUNABLES.replace('trim_threshold=1073741824', 'trim_threshold=131072') }), false, 'trimmed')
})

t.test('a pre-fault can be stopped early, always ends, and never touches twice what it touched once', async (t) => {
  await startPrefault(0).finish()
  const rss = process.memoryUsage().rss
  const big = startPrefault(8 * 2 ** 30)
  await big.finish()
  t.ok(process.memoryUsage().rss - rss < 2 ** 30, 'stopped long before 8 GiB')
  const before = prefaultedBytes()
  t.ok(before < 2 ** 30, `${before} bytes touched before the stop`)
  await startPrefault(before + (32 << 20)).done
  t.equal(prefaultedBytes(), before + (32 << 20), 'only the missing 32 MiB')
  await startPrefault(before + (32 << 20)).done
  t.equal(prefaultedBytes(), before + (32 << 20), 'nothing more for the same need')
})

// A child process started with the tunables pre-faults 96 MiB on a worker thread, then its main thread allocates and
// touches 64 MiB: with the pre-fault, those pages are already resident and (almost) no page faults occur.
const CHILD = `
import { startPrefault } from ${JSON.stringify(resolve(root, 'src/inference/memory-prefault.ts'))}
if (process.env.MODE === 'prefault') await startPrefault(96 << 20).done
const before = process.resourceUsage().minorPageFault
const b = Buffer.allocUnsafeSlow(64 << 20)
for (let i = 0; i < b.length; i += 4096) b[i] = 1
console.log(process.resourceUsage().minorPageFault - before)
`

t.test('memory touched by the worker serves the main thread without page faults', { skip: process.platform !== 'linux' }, async (t) => {
  const faults = async (mode: string): Promise<number> => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      // Only what the mechanism needs: no test-runner hooks in the child.
      cwd: root, env: { PATH: process.env.PATH ?? '', GLIBC_TUNABLES: PREFAULT_GLIBC_TUNABLES, MODE: mode },
    })
    return Number(stdout.trim())
  }
  const pages = (64 << 20) / 4096
  const cold = await faults('none')
  const warmed = await faults('prefault')
  t.ok(cold > pages * 0.9, `without the pre-fault, touching 64 MiB faults ${cold} of ${pages} pages`)
  t.ok(warmed < pages * 0.1, `after it, ${warmed} faults`)
})

t.test('a load with the pre-fault on serves the same model', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const loaded = await loadModel(s3, pinOf(model, 1, 2), {
    session: { graphOptimizationLevel: 'all', intraOpNumThreads: 0, spinning: false }, read: { partBytes: 1 << 20, concurrency: 2 }, fallbackSize: 224, prefault: true, optimizedGraph: 'off', readThread: 'main',
  })
  t.teardown(() => loaded.classifier.release())
  t.equal(loaded.weightsSha256, model.sha256.weights[0])
  t.equal(loaded.labels.length, 1000)
})
