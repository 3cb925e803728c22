import t from 'tap'
import { CONFIG_VARIABLES, ConfigurationError, readConfig } from '../lambda/config.js'
import { PIN_ENVIRONMENT } from '../src/contract/pin.js'

const minimal = { MODEL_BUCKET: 'models', MODEL_WEIGHTS_KEY: 'm.onnx', MODEL_LABELS_KEY: 'l.txt', OUTPUT_BUCKET: 'out' }
const digest = 'a'.repeat(64)

t.test('defaults fill every optional setting', async (t) => {
  const config = readConfig(minimal)
  t.equal(config.pin, undefined)
  t.equal(config.allowLatest, false)
  t.equal(config.outputPrefix, '')
  t.equal(config.cacheMaxBytes, 256 * 1024 * 1024)
  t.same(config.session, { graphOptimizationLevel: 'all', intraOpNumThreads: 0, spinning: false })
  t.same(config.image, { size: 224, resize: undefined, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] })
  t.same(config.download, { partBytes: 8 * 1024 * 1024, concurrency: 8 }, 'parallel ranged GETs on AWS')
})

t.test('with a custom S3 endpoint the weights come in one GET unless the variables say otherwise', async (t) => {
  const gateway = { ...minimal, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7480' }
  t.same(readConfig(gateway).download, { partBytes: 2 ** 31 - 1, concurrency: 1 })
  t.same(readConfig({ ...gateway, MODEL_DOWNLOAD_PART_BYTES: '1048576', MODEL_DOWNLOAD_CONCURRENCY: '4' }).download, { partBytes: 1048576, concurrency: 4 })
})

t.test('a full pin, with digests, comes from the PIN_ENVIRONMENT variables', async (t) => {
  const config = readConfig({
    ...minimal, MODEL_WEIGHTS_VERSION_ID: 'w1', MODEL_LABELS_VERSION_ID: 'l1', MODEL_WEIGHTS_SHA256: digest, OUTPUT_PREFIX: 'out/', IMAGE_MEAN: '0.5, 0.5,0.5',
  })
  t.same(config.pin, { bucket: 'models', weightsKey: 'm.onnx', weightsVersionId: 'w1', weightsSha256: digest, labelsKey: 'l.txt', labelsVersionId: 'l1', labelsSha256: undefined })
  t.equal(config.outputPrefix, 'out/')
  t.same(config.image.mean, [0.5, 0.5, 0.5])
})

t.test('each wrong or missing variable is named in the error', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ ...minimal, MODEL_BUCKET: '' }, /^MODEL_BUCKET is not set/],
    [{ ...minimal, MODEL_WEIGHTS_KEY: ' ' }, /^MODEL_WEIGHTS_KEY is not set/],
    [{ MODEL_BUCKET: 'b', MODEL_WEIGHTS_KEY: 'w', MODEL_LABELS_KEY: 'l' }, /^OUTPUT_BUCKET is not set/],
    [{ ...minimal, MODEL_WEIGHTS_VERSION_ID: 'w1' }, /MODEL_WEIGHTS_VERSION_ID is set but MODEL_LABELS_VERSION_ID is not/],
    [{ ...minimal, MODEL_LABELS_VERSION_ID: 'l1' }, /MODEL_LABELS_VERSION_ID is set but MODEL_WEIGHTS_VERSION_ID is not/],
    [{ ...minimal, MODEL_LABELS_SHA256: 'ABC' }, /^MODEL_LABELS_SHA256 must be 64 lowercase hex digits/],
    [{ ...minimal, MODEL_ALLOW_LATEST: 'yes' }, /^MODEL_ALLOW_LATEST must be 0 or 1/],
    [{ ...minimal, MODEL_RELEASE: 'two' }, /^MODEL_RELEASE must be a release number/],
    [{ ...minimal, MODEL_RELEASE: '0' }, /^MODEL_RELEASE must be a release number/],
    [{ ...minimal, MODEL_CACHE_MAX_BYTES: '1GB' }, /^MODEL_CACHE_MAX_BYTES must be an integer/],
    [{ ...minimal, MODEL_GRAPH_OPTIMIZATION: 'max' }, /^MODEL_GRAPH_OPTIMIZATION must be one of disabled, basic, extended, layout, all/],
    [{ ...minimal, MODEL_INTRA_OP_SPINNING: 'yes' }, /^MODEL_INTRA_OP_SPINNING must be 0 or 1/],
    [{ ...minimal, MODEL_DOWNLOAD_CONCURRENCY: '0' }, /^MODEL_DOWNLOAD_CONCURRENCY must be an integer >= 1/],
    [{ ...minimal, IMAGE_MEAN: '0.5,0.5' }, /^IMAGE_MEAN must be three comma-separated numbers/],
    [{ ...minimal, IMAGE_STD: '0.2,0,0.2' }, /^IMAGE_STD must be three positive numbers/],
    [{ ...minimal, IMAGE_SIZE: '299', IMAGE_RESIZE: '200' }, /^IMAGE_RESIZE must be an integer >= 299/],
  ]
  for (const [env, message] of cases) {
    t.throws(() => readConfig(env), { name: 'ConfigurationError', message }, String(message))
  }
  t.ok(new ConfigurationError('x') instanceof Error)
})

t.test('CONFIG_VARIABLES lists every variable the function reads, each described', async (t) => {
  const read = new Set<string>()
  const recording = new Proxy({ ...minimal, MODEL_WEIGHTS_VERSION_ID: 'w', MODEL_LABELS_VERSION_ID: 'l', IMAGE_RESIZE: '256' } as Record<string, string>, {
    get (target, name) {
      if (typeof name === 'string') read.add(name)
      return target[name as string]
    },
  })
  readConfig(recording)
  const listed = new Set(CONFIG_VARIABLES.map((v) => v.name))
  for (const name of read) t.ok(listed.has(name), `${name} is listed`)
  for (const name of Object.values(PIN_ENVIRONMENT)) t.ok(listed.has(name), `${name} (a pin variable) is listed`)
  for (const name of ['AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'S3_FORCE_PATH_STYLE', 'S3_CHECKSUMS']) t.ok(listed.has(name), `${name} (S3 settings) is listed`)
  t.ok(CONFIG_VARIABLES.every((v) => v.description.length > 10), 'every variable has a description')
  t.equal(listed.size, CONFIG_VARIABLES.length, 'no variable is listed twice')
})
