import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { Script } from 'node:vm'
import t from 'tap'
import { codeCacheMatches } from '../lambda/code-cache.js'
import { pinToEnvironment } from '../src/contract/pin.js'
import { S3_ENV, createTestBucket, testS3Client } from './helpers/s3.js'
import { colourPhoto } from './helpers/images.js'
import { expectedLabel, pinOf, uploadTinyModel } from './helpers/models.js'

const run = promisify(execFile)
const root = resolve(import.meta.dirname, '..')
const bundle = resolve(root, 'dist/lambda/index.mjs')

/** A Node process that imports the bundle as Lambda's runtime would and invokes `handler` once per event. */
const RUNNER = `
const { handler } = await import(process.env.BUNDLE)
for (const event of JSON.parse(process.env.EVENTS)) {
  try {
    console.log('RESULT ' + JSON.stringify(await handler(event, { awsRequestId: 'bundle-' + Math.random(), functionName: 'f', functionVersion: '1', getRemainingTimeInMillis: () => 30000 })))
  } catch (error) {
    console.log('RESULT ' + JSON.stringify({ errorType: error.name, errorMessage: error.message }))
  }
}
`

async function invoke (env: Record<string, string>, events: unknown[], entry = bundle): Promise<{ results: any[], stdout: string }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', RUNNER], {
    // Outside the repository, so nothing resolves through tsx or the sources: only the bundle and node_modules.
    cwd: '/',
    env: { PATH: process.env.PATH ?? '', ...S3_ENV, ...env, BUNDLE: entry, EVENTS: JSON.stringify(events), LOG_LEVEL: 'info' },
    maxBuffer: 16 << 20,
  })
  const results = stdout.split('\n').filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)))
  return { results, stdout }
}

/** The pino JSON lines a run printed. */
function logLines (stdout: string): any[] {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
}

/** One cold start of `entry` answering `event`: its init and model-load log lines and its answer. */
async function coldStart (env: Record<string, string>, event: unknown, entry = bundle): Promise<{ init: any, load: any, answer: any }> {
  const { results, stdout } = await invoke(env, [event], entry)
  const logs = logLines(stdout)
  return { init: logs.find((l) => l.msg === 'inference function initialised'), load: logs.find((l) => l.msg === 'model loaded'), answer: results[0] }
}

t.before(async () => {
  await run(process.execPath, [resolve(root, 'scripts/build-lambda.mjs')], { cwd: root })
})

t.test('the bundle, in its own process, classifies a direct event with the configured pin, then warm', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const outputs = await createTestBucket(t, s3, { versioned: false })
  const model = await uploadTinyModel(s3, bucket)
  const image = { base64: (await colourPhoto('blue')).toString('base64') }
  const { results, stdout } = await invoke({ ...pinToEnvironment(pinOf(model, 2, 1)), MODEL_RELEASE: '2', OUTPUT_BUCKET: outputs }, [
    { image },
    { image, model: { weightsVersionId: model.weights[0], labelsVersionId: model.labels[1] } },
    { nonsense: true },
  ])
  t.equal(results.length, 3)
  const [first, second, third] = results
  t.equal(first.predictions[0].label, expectedLabel(2, 1, 'blue'))
  t.same(first.model, {
    bucket,
    weightsKey: model.weightsKey,
    weightsVersionId: model.weights[1],
    labelsKey: model.labelsKey,
    labelsVersionId: model.labels[0],
    release: 2,
    weightsSha256: model.sha256.weights[1],
    labelsSha256: model.sha256.labels[0],
  })
  t.equal(first.environment.coldStart, true)
  t.equal(second.predictions[0].label, expectedLabel(1, 2, 'blue'))
  t.equal(second.environment.coldStart, false)
  t.equal(second.environment.id, first.environment.id)
  t.equal(second.model.release, null, 'a pin from the event names no release')
  t.same(third, { errorType: 'UnknownEventError', errorMessage: third.errorMessage })
  const logs = logLines(stdout)
  t.ok(logs.some((l) => l.msg === 'inference function initialised' && l.name === 'modelpin-inference'), 'pino JSON lines from module scope')
  t.ok(logs.filter((l) => l.msg === 'classified').every((l) => typeof l.requestId === 'string' && typeof l.weightsVersionId === 'string'))
  const initLoad = logs.findIndex((l) => l.msg === 'model loaded' && l.phase === 'init' && l.weightsVersionId === model.weights[1])
  t.ok(initLoad >= 0 && initLoad < logs.findIndex((l) => l.msg === 'inference function initialised'), 'the init phase loaded the configured model')
  t.match(first.cache, { loads: 1, misses: 0, hits: 1 }, 'the first request found it in memory')
})

t.test('the entry point starts the download before the function loads; the first cold start writes the graph, the next uses it', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const image = { base64: (await colourPhoto('red')).toString('base64') }
  const env = { ...pinToEnvironment(pinOf(model, 1, 2)), OUTPUT_BUCKET: bucket }
  const first = await coldStart(env, { image })
  t.match(first.init.earlyRead, { status: /^reading s3:\/\/.*\/modelpin-optimized\/.*\.ort$/, unused: false }, 'the entry point started reading the graph')
  t.equal(first.load.graph.source, 'weights', 'there was none yet: the weights')
  t.match(first.load.graph.note, /does not exist; wrote s3:/)
  const second = await coldStart(env, { image })
  t.equal(second.load.graph.source, 'optimized-graph', 'the next cold start loads the graph the first one wrote')
  t.ok(second.init.earlyRead.at <= second.init.functionEvaluatedAt,
    `the read started (${second.init.earlyRead.at} ms into the process) before the function's module ran (${second.init.functionEvaluatedAt} ms)`)
  t.equal(second.answer.predictions[0].label, expectedLabel(1, 2, 'red'))
  t.equal(second.answer.model.weightsSha256, model.sha256.weights[0])
  t.equal(second.init.codeCache.status, 'used', 'the function was compiled from the code cache the build made')
})

t.test('a code cache made for another source or refused by V8 only costs the compile: the function answers the same', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const image = { base64: (await colourPhoto('green')).toString('base64') }
  const env = { ...pinToEnvironment(pinOf(model, 2, 2)), OUTPUT_BUCKET: bucket }
  // A copy of the bundle beside the repository's node_modules, whose cache this test may spoil.
  const dir = await mkdtemp(join(root, 'dist/.code-cache-test-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  for (const file of ['index.mjs', 'main.cjs', 'main.cjs.cache']) await copyFile(resolve(root, 'dist/lambda', file), join(dir, file))
  const copy = join(dir, 'index.mjs')
  const cache = await readFile(join(dir, 'main.cjs.cache'))
  const header = cache.subarray(0, cache.indexOf(10) + 1)
  t.match(header.toString('latin1'), new RegExp(`^modelpin-code-cache [0-9a-f]{64} ${process.version}\n$`), 'the cache names its source\'s sha256 and Node\'s version')

  const expected = expectedLabel(2, 2, 'green')
  const used = await coldStart(env, { image }, copy)
  t.equal(used.init.codeCache.status, 'used')
  t.equal(used.answer.predictions[0].label, expected)

  // The header of another source: not handed to V8 at all.
  await writeFile(join(dir, 'main.cjs.cache'), Buffer.concat([Buffer.from(header.toString('latin1').replace(/[0-9a-f]{64}/, '0'.repeat(64)), 'latin1'), cache.subarray(header.length)]))
  const stale = await coldStart(env, { image }, copy)
  t.equal(stale.init.codeCache.status, 'stale')
  t.equal(stale.answer.predictions[0].label, expected)

  // The right header over V8 data made for another script: V8 checks it and refuses it.
  await writeFile(join(dir, 'main.cjs.cache'), Buffer.concat([header, new Script('"another script"').createCachedData()]))
  const rejected = await coldStart(env, { image }, copy)
  t.equal(rejected.init.codeCache.status, 'rejected')
  t.equal(rejected.answer.predictions[0].label, expected)

  await rm(join(dir, 'main.cjs.cache'))
  const absent = await coldStart(env, { image }, copy)
  t.equal(absent.init.codeCache.status, 'absent')
  t.equal(absent.answer.predictions[0].label, expected)
})

t.test('the build makes the code cache once per source and Node: an unchanged function keeps its cache', async (t) => {
  const cache = resolve(root, 'dist/lambda/main.cjs.cache')
  const before = await stat(cache)
  await run(process.execPath, [resolve(root, 'scripts/build-lambda.mjs')], { cwd: root })
  t.equal((await stat(cache)).mtimeMs, before.mtimeMs, 'not made again')
  t.ok(codeCacheMatches(resolve(root, 'dist/lambda/main.cjs')))
})

t.test('a configured model that fails to load at init is refused by name on the first request, and init still ends', async (t) => {
  const s3 = testS3Client()
  const bucket = await createTestBucket(t, s3)
  const model = await uploadTinyModel(s3, bucket)
  const image = { base64: (await colourPhoto('blue')).toString('base64') }
  const pin = { ...pinOf(model, 1, 1), weightsSha256: 'f'.repeat(64) }
  const { results, stdout } = await invoke({ ...pinToEnvironment(pin), OUTPUT_BUCKET: bucket }, [{ image }])
  const logs = logLines(stdout)
  t.ok(logs.some((l) => l.msg.startsWith('preloading the configured model failed') && l.code === 'checksum_mismatch'), 'the failed preload is logged')
  t.match(results, [{ errorType: 'ChecksumMismatchError', errorMessage: /sha256/ }], 'the request loads again and throws the named error')
})

t.test('the bundle fails its init with a message naming a missing variable', async (t) => {
  const error = await invoke({ MODEL_WEIGHTS_KEY: 'w', MODEL_LABELS_KEY: 'l', OUTPUT_BUCKET: 'o' }, []).then(() => undefined, (e: unknown) => e)
  t.match(error, { stderr: /ConfigurationError: MODEL_BUCKET is not set/ })
})
