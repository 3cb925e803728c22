import t from 'tap'
import { ModelCache, pinKey } from '../src/inference/model-cache.js'
import { loadModel, type LoadedModel } from '../src/inference/model-loader.js'
import type { ModelPin } from '../src/contract/pin.js'
import { createTestBucket, testS3Client } from './helpers/s3.js'
import { pinOf, uploadTinyModel, type UploadedModel } from './helpers/models.js'

const s3 = testS3Client()

type Teardown = Parameters<typeof createTestBucket>[0]

/** The tiny model's two weights and two labels versions in a fresh bucket. */
async function tinyModel (t: Teardown): Promise<UploadedModel> {
  return await uploadTinyModel(s3, await createTestBucket(t, s3))
}

/** The tiny model, and a cache of at most `maxBytes` over it that records what it loads and frees. */
async function setup (t: Teardown, maxBytes: number) {
  return { model: await tinyModel(t), ...recordingCache(maxBytes) }
}

/** A cache of at most `maxBytes` over the real loader, with the pins it loaded and the models it freed. */
function recordingCache (maxBytes: number): { cache: ModelCache, loaded: ModelPin[], freed: LoadedModel[] } {
  const loaded: ModelPin[] = []
  const freed: LoadedModel[] = []
  const cache = new ModelCache({
    maxBytes,
    load: async (pin) => {
      loaded.push(pin)
      return await loadModel(s3, pin)
    },
    onEvict: (m) => freed.push(m),
  })
  return { cache, loaded, freed }
}

/** Bytes one (weights, labels) pair of the tiny model occupies in the cache. */
async function pairBytes (model: UploadedModel): Promise<number> {
  const m = await loadModel(s3, pinOf(model, 1, 1))
  await m.classifier.release()
  return m.bytes
}

t.test('a second request for the same versions is a hit with no load', async (t) => {
  const { model, cache, loaded } = await setup(t, 1 << 30)
  const first = await cache.acquire(pinOf(model, 1, 1))
  first.release()
  t.equal(first.hit, false)
  const second = await cache.acquire(pinOf(model, 1, 1))
  second.release()
  t.equal(second.hit, true)
  t.equal(second.model, first.model, 'the same loaded model')
  t.equal(loaded.length, 1)
  t.same(cache.stats(), { hits: 1, misses: 1, loads: 1, bytes: first.model.bytes })
  t.equal(first.model.weightsSha256, model.sha256.weights[0])
  t.equal(first.model.labelsSha256, model.sha256.labels[0])
})

t.test('ten concurrent requests for new versions share one load', async (t) => {
  const { model, cache, loaded } = await setup(t, 1 << 30)
  const leases = await Promise.all(Array.from({ length: 10 }, async () => await cache.acquire(pinOf(model, 2, 1))))
  for (const lease of leases) lease.release()
  t.equal(loaded.length, 1)
  t.equal(new Set(leases.map((l) => l.model)).size, 1)
  t.same(cache.stats(), { hits: 0, misses: 10, loads: 1, bytes: leases[0]!.model.bytes })
})

t.test('past maxBytes the least recently used model is evicted, and loads again when asked for', async (t) => {
  const model = await tinyModel(t)
  const bytes = await pairBytes(model)
  // Room for two pairs, not three.
  const { cache: roomy, loaded, freed } = recordingCache(2 * bytes + 1000)
  const a = pinOf(model, 1, 1)
  const b = pinOf(model, 2, 1)
  const c = pinOf(model, 1, 2)
  const size = new Map<ModelPin, number>()
  for (const pin of [a, b, a, c]) {
    const lease = await roomy.acquire(pin)
    size.set(pin, lease.model.bytes)
    lease.release()
  }
  // a was used after b, so b is the least recently used when c arrives.
  t.same(roomy.keys(), [pinKey(a), pinKey(c)])
  t.equal(freed.length, 1)
  t.equal(freed[0]!.pin, b)
  t.equal(roomy.stats().bytes, size.get(a)! + size.get(c)!)
  t.equal(roomy.evictions, 1)
  ;(await roomy.acquire(b)).release()
  t.same(roomy.stats(), { hits: 1, misses: 4, loads: 4, bytes: size.get(c)! + size.get(b)! }, 'b loads again; a is evicted in turn')
  t.same(roomy.keys(), [pinKey(c), pinKey(b)])
  t.same(loaded, [a, b, c, b], 'each miss loaded its own pin once')
  t.same(freed.map((m) => m.pin), [b, a], 'b was freed first, then a')
  t.equal(roomy.evictions, 2)
})

t.test('a model larger than maxBytes is still served, alone', async (t) => {
  const { model, cache } = await setup(t, 10)
  const lease = await cache.acquire(pinOf(model, 1, 1))
  t.equal(lease.model.labels.length, 1000)
  lease.release()
  t.equal(cache.keys().length, 1)
})

t.test('an evicted model in use is freed only when its last lease is released', async (t) => {
  const { model, cache, freed } = await setup(t, 1)
  const running = await cache.acquire(pinOf(model, 1, 1))
  ;(await cache.acquire(pinOf(model, 2, 2))).release()
  t.equal(freed.length, 0, 'not freed while leased')
  t.ok(await running.model.classifier.run(new Float32Array(3 * 224 * 224), 224), 'the leased session still runs')
  running.release()
  running.release()
  t.equal(freed.length, 1, 'freed once, on the last release')
})

t.test('a failed load is not cached; the next request tries again', async (t) => {
  const { model, cache, loaded } = await setup(t, 1 << 30)
  const bad = { ...pinOf(model, 1, 1), weightsVersionId: 'AbCdEfGhIjKlMnOpQrStUvWxYz012345' }
  await t.rejects(cache.acquire(bad), { name: 'VersionNotFoundError' })
  await t.rejects(cache.acquire(bad), { name: 'VersionNotFoundError' })
  t.equal(loaded.length, 2)
  t.same(cache.stats(), { hits: 0, misses: 2, loads: 2, bytes: 0 })
})

t.test('a pin whose digest disagrees with the cached bytes is refused without a reload', async (t) => {
  const { model, cache, loaded } = await setup(t, 1 << 30)
  ;(await cache.acquire(pinOf(model, 1, 1, false))).release()
  const wrong = { ...pinOf(model, 1, 1), weightsSha256: model.sha256.weights[1] }
  await t.rejects(cache.acquire(wrong), { name: 'ChecksumMismatchError', message: new RegExp(`VersionId ${model.weights[0]}.*${model.sha256.weights[0]}`) })
  t.equal(loaded.length, 1)
})

t.test('a preload (a function\'s init) loads the model once without counting a request, and a failed one is not kept', async (t) => {
  const { model, cache, loaded } = await setup(t, 1 << 30)
  const pin = pinOf(model, 1, 1)
  await Promise.all([cache.preload(pin), cache.preload(pin)])
  t.same(cache.stats(), { hits: 0, misses: 0, loads: 1, bytes: (await pairBytes(model)) }, 'one load, no request counted')
  const lease = await cache.acquire(pin)
  lease.release()
  t.equal(lease.hit, true, 'the first request finds the preloaded model')
  await cache.preload(pin)
  t.equal(loaded.length, 1, 'a preload of a model in memory loads nothing')

  const missing = { ...pinOf(model, 2, 2), weightsVersionId: 'no-such-version' }
  await t.rejects(cache.preload(missing), { name: 'VersionNotFoundError' })
  await t.rejects(cache.acquire(missing), { name: 'VersionNotFoundError' }, 'the next request loads again and gets the named error')
  t.equal(loaded.length, 3)
})
