import t from 'tap'
import { deployedRelease, promote, startEndToEnd } from './helpers/e2e.js'
import { invoke } from './helpers/local-runtime-e2e.js'
import { waitForRuntimeEvent } from './helpers/lambda-runtime.js'
import { expectedTopLabel } from './helpers/models.js'

t.test('the second invocation is warm in the first one\'s environment without reloading the model; a new version starts cold', async (t) => {
  // no warm-up: what this test watches is how a version starts without one
  const { stack, lambda, photos: { bucket: images } } = await startEndToEnd(t, { photos: { 'blue.jpg': 'blue' }, demoPrewarm: 0 })
  const event = { image: { bucket: images, key: 'blue.jpg' } }
  const first = await deployedRelease(stack)

  const started = waitForRuntimeEvent(stack.runtime, 'environment-started', (e) => e.version === first.functionVersion)
  const cold = await invoke(lambda, stack, event)
  const [startedEvent] = await started
  t.equal(cold.response.ExecutedVersion, first.functionVersion)
  t.equal(cold.body.environment.coldStart, true, 'the first invocation of the version is a cold start')
  // The environment's init phase loads the configured model, so the first request finds it in memory.
  t.match(cold.body.cache, { loads: 1, misses: 0, hits: 1 }, 'the cold start loads the model, during its init')

  const warm = await invoke(lambda, stack, event)
  t.equal(warm.body.environment.id, cold.body.environment.id, 'same environment (process)')
  t.equal(warm.body.environment.coldStart, false)
  t.equal(warm.body.cache.loads, 1, 'the model is not loaded again')
  t.equal(warm.body.cache.hits, cold.body.cache.hits + 1, 'it is served from the cache')
  t.equal(warm.body.predictions[0].label, expectedTopLabel(1, 1, 'blue'))
  const versionStats = stack.runtime.stats().versions.find((v) => v.version === first.functionVersion)
  t.match(versionStats, { environmentsStarted: 1, coldStarts: 1, invocations: 2 }, 'the runtime counts one environment for both')
  t.ok(startedEvent.environmentId.length > 0)

  // Promoting release 2 through the API publishes a new Lambda version and moves `live` to it.
  const nextStarted = waitForRuntimeEvent(stack.runtime, 'environment-started', (e) => e.version !== first.functionVersion)
  const secondVersion = await promote(stack, 2)
  t.not(secondVersion, first.functionVersion, 'release 2 is a newly published version')
  const { release: release2 } = await deployedRelease(stack)
  const fresh = await invoke(lambda, stack, event)
  const [nextEvent] = await nextStarted
  t.equal(nextEvent.version, secondVersion)
  t.equal(fresh.response.ExecutedVersion, secondVersion)
  t.not(fresh.body.environment.id, cold.body.environment.id, 'a new environment')
  t.equal(fresh.body.environment.coldStart, true)
  t.match(fresh.body.cache, { loads: 1, misses: 0 }, 'the new environment loads its own model, during its init')
  t.equal(fresh.body.model.weightsVersionId, release2.weightsVersionId)
  t.equal(fresh.body.predictions[0].label, expectedTopLabel(2, 2, 'blue'), 'release 2 (weights 2, labels 2) answered')
})
