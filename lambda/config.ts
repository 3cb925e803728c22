import { DEFAULT_SESSION_SETTINGS, type SessionSettings } from '../src/inference/classifier.js'
import { DEFAULT_PARALLEL_READ, defaultDownload, usesGateway } from '../src/inference/read-settings.js'
import { PREFAULT_GLIBC_TUNABLES, allocatorRetainsMemory } from '../src/inference/memory-prefault.js'
import { OPTIMIZED_GRAPH_MODES, OPTIMIZED_GRAPH_PREFIX, type OptimizedGraphMode } from '../src/inference/optimized-graph.js'
import { IMAGENET_PREPROCESS } from '../src/inference/preprocess.js'
import { PIN_ENVIRONMENT, RELEASE_ENVIRONMENT, releaseFromEnvironment, type ModelPin } from '../src/contract/pin.js'
import { isSha256, SHA256_RULE } from '../src/contract/rules.js'

/** The function's environment is wrong; the message names the variable. Thrown at module scope (Lambda's init). */
export class ConfigurationError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ConfigurationError'
  }
}

export interface ConfigVariable {
  name: string
  /** `null`: required. */
  default: string | null
  description: string
}

/** Every environment variable the function reads, for the README and for checking it against this list. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: PIN_ENVIRONMENT.bucket, default: null, description: 'Bucket of the model\'s weights and labels (versioned).' },
  { name: PIN_ENVIRONMENT.weightsKey, default: null, description: 'Key of the ONNX weights.' },
  { name: PIN_ENVIRONMENT.labelsKey, default: null, description: 'Key of the labels file (one label a line, or ImageNet synset lines).' },
  { name: PIN_ENVIRONMENT.weightsVersionId, default: null, description: 'S3 VersionId of the weights to serve. Without it (and the labels one) the function refuses requests that carry no pin of their own, unless MODEL_ALLOW_LATEST=1.' },
  { name: PIN_ENVIRONMENT.labelsVersionId, default: null, description: 'S3 VersionId of the labels to serve; set together with MODEL_WEIGHTS_VERSION_ID.' },
  { name: PIN_ENVIRONMENT.weightsSha256, default: '', description: 'sha256 of the weights version (lowercase hex); when set, loaded bytes must match.' },
  { name: PIN_ENVIRONMENT.labelsSha256, default: '', description: 'sha256 of the labels version (lowercase hex); when set, loaded bytes must match.' },
  { name: RELEASE_ENVIRONMENT, default: '', description: 'The registry release this version serves (written by the registry beside the pin); answers served with the configuration\'s pin carry it as model.release.' },
  { name: 'MODEL_ALLOW_LATEST', default: '0', description: 'Development only: 1 serves the latest versions when no VersionIds are pinned (resolved on every request).' },
  { name: 'OUTPUT_BUCKET', default: null, description: 'Bucket that receives one JSON result (or error) per S3 record.' },
  { name: 'OUTPUT_PREFIX', default: '', description: 'Prefix of the result keys: <OUTPUT_PREFIX><input key>.json or .error.json.' },
  { name: 'MODEL_CACHE_MAX_BYTES', default: String(256 * 1024 * 1024), description: 'Weights + labels bytes of the models kept in memory; least recently used models are evicted past it (256 MiB holds two ResNet-50 versions).' },
  { name: 'MODEL_GRAPH_OPTIMIZATION', default: DEFAULT_SESSION_SETTINGS.graphOptimizationLevel, description: 'ONNX Runtime graph optimisation level: all, layout, extended, basic or disabled (all: slowest load, fastest runs).' },
  { name: 'MODEL_INTRA_OP_THREADS', default: '0', description: 'ONNX Runtime threads per run; 0 means one per physical core.' },
  { name: 'MODEL_INTRA_OP_SPINNING', default: '0', description: 'ONNX Runtime\'s threads busy-wait between operators (1) or sleep (0, the default: spinning takes the CPU the S3 read and the image decode need).' },
  { name: 'MODEL_DOWNLOAD_PART_BYTES', default: '', description: `Size of each ranged GET when downloading weights; empty means ${DEFAULT_PARALLEL_READ.partBytes} (8 MiB) on AWS and the whole object in one GET with a custom endpoint (AWS_ENDPOINT_URL_S3).` },
  { name: 'MODEL_DOWNLOAD_CONCURRENCY', default: '', description: `Ranged GETs in flight when downloading weights; empty means ${DEFAULT_PARALLEL_READ.concurrency} on AWS and 1 with a custom endpoint.` },
  { name: 'MODEL_DOWNLOAD_THREAD', default: 'worker', description: 'Where the weights (or their optimised graph) are downloaded, copied and hashed: worker (a worker thread, src/inference/worker-read.ts, leaving the main thread to the bundle, ONNX Runtime and sharp) or main.' },
  { name: 'MODEL_PREFAULT', default: 'auto', description: 'Touch the memory a new session needs while its weights download (src/inference/memory-prefault.ts): 1, 0, or auto (on when GLIBC_TUNABLES lets the allocator keep that memory).' },
  { name: 'MODEL_OPTIMIZED_GRAPH', default: 'readwrite', description: `Derived optimised graphs in the model bucket under ${OPTIMIZED_GRAPH_PREFIX} (src/inference/optimized-graph.ts): readwrite loads a matching one instead of the weights and writes one after a load from the weights; read never writes; off always loads the weights.` },
  { name: 'GLIBC_TUNABLES', default: '', description: `Read by glibc at process start; lambda/Dockerfile sets ${PREFAULT_GLIBC_TUNABLES}, under which MODEL_PREFAULT=auto is on.` },
  { name: 'IMAGE_SIZE', default: String(IMAGENET_PREPROCESS.size), description: 'Side of the model\'s square input when the model does not fix it.' },
  { name: 'IMAGE_RESIZE', default: '', description: 'Shorter side before the centre crop; empty means IMAGE_SIZE x 256 / 224 (the ImageNet recipe).' },
  { name: 'IMAGE_MEAN', default: IMAGENET_PREPROCESS.mean.join(','), description: 'Per-channel mean of pixel/255, R,G,B.' },
  { name: 'IMAGE_STD', default: IMAGENET_PREPROCESS.std.join(','), description: 'Per-channel standard deviation of pixel/255, R,G,B.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'pino log level.' },
  { name: 'AWS_ENDPOINT_URL_S3', default: '', description: 'S3 endpoint (radosgw locally); empty means AWS S3. Path style and checksum settings follow it (src/aws/s3-client.ts).' },
  { name: 'AWS_REGION', default: 'us-east-1', description: 'Region of the S3 client (set by Lambda).' },
  { name: 'S3_FORCE_PATH_STYLE', default: '', description: 'true or false; empty means true with a custom endpoint, false on AWS.' },
  { name: 'S3_CHECKSUMS', default: '', description: 'when_required or when_supported; empty means when_required with a custom endpoint (radosgw), when_supported on AWS.' },
]

export interface HandlerConfig {
  /** Where the model lives; the version IDs may be missing (see `pin`). */
  bucket: string
  weightsKey: string
  labelsKey: string
  /** The configuration's pin, or undefined when no version IDs are set. */
  pin: ModelPin | undefined
  /** The registry release the configuration's pin belongs to (MODEL_RELEASE), when set. */
  release: number | undefined
  allowLatest: boolean
  outputBucket: string
  outputPrefix: string
  cacheMaxBytes: number
  session: SessionSettings
  download: { partBytes: number, concurrency: number }
  prefault: boolean
  optimizedGraph: OptimizedGraphMode
  readThread: 'worker' | 'main'
  image: {
    /** Used when the model leaves its input size symbolic. */
    size: number
    /** undefined: size x 256 / 224. */
    resize: number | undefined
    mean: [number, number, number]
    std: [number, number, number]
  }
}

type Env = Record<string, string | undefined>

// Hand-written, not env-schema: ajv would add about 270 KB (18%) to the function's bundle and schema compilation to
// every cold start, and its messages do not lead with the variable; the pin's pairs and IMAGE_RESIZE >= IMAGE_SIZE
// would stay code anyway.
/** Builds the handler's configuration from the environment, or throws a ConfigurationError naming the variable. */
export function readConfig (env: Env): HandlerConfig {
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim()
    return v === undefined || v === '' ? undefined : v
  }
  const required = (name: string): string => {
    const v = value(name)
    if (v === undefined) throw new ConfigurationError(`${name} is not set: ${describe(name)}`)
    return v
  }
  const integer = (name: string, min: number): number => {
    const raw = value(name) ?? defaultOf(name)
    const n = Number(raw)
    if (!Number.isSafeInteger(n) || n < min) throw new ConfigurationError(`${name} must be an integer >= ${min}, got "${raw}"`)
    return n
  }
  const triple = (name: string): [number, number, number] => {
    const raw = value(name) ?? defaultOf(name)
    const parts = raw.split(',').map((p) => Number(p.trim()))
    if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p))) {
      throw new ConfigurationError(`${name} must be three comma-separated numbers (R,G,B), got "${raw}"`)
    }
    return parts as [number, number, number]
  }

  const bucket = required(PIN_ENVIRONMENT.bucket)
  const weightsKey = required(PIN_ENVIRONMENT.weightsKey)
  const labelsKey = required(PIN_ENVIRONMENT.labelsKey)
  const weightsVersionId = value(PIN_ENVIRONMENT.weightsVersionId)
  const labelsVersionId = value(PIN_ENVIRONMENT.labelsVersionId)
  if ((weightsVersionId === undefined) !== (labelsVersionId === undefined)) {
    const [set, unset] = weightsVersionId === undefined
      ? [PIN_ENVIRONMENT.labelsVersionId, PIN_ENVIRONMENT.weightsVersionId]
      : [PIN_ENVIRONMENT.weightsVersionId, PIN_ENVIRONMENT.labelsVersionId]
    throw new ConfigurationError(`${set} is set but ${unset} is not: a pin names both versions`)
  }
  for (const name of [PIN_ENVIRONMENT.weightsSha256, PIN_ENVIRONMENT.labelsSha256]) {
    const digest = value(name)
    if (digest !== undefined && !isSha256(digest)) {
      throw new ConfigurationError(`${name} must be ${SHA256_RULE}, got "${digest}"`)
    }
  }
  const release = value(RELEASE_ENVIRONMENT)
  if (release !== undefined && releaseFromEnvironment({ [RELEASE_ENVIRONMENT]: release }) === undefined) {
    throw new ConfigurationError(`${RELEASE_ENVIRONMENT} must be a release number (an integer >= 1), got "${release}"`)
  }
  const allowLatest = value('MODEL_ALLOW_LATEST') ?? '0'
  if (allowLatest !== '0' && allowLatest !== '1') throw new ConfigurationError(`MODEL_ALLOW_LATEST must be 0 or 1, got "${allowLatest}"`)
  const level = value('MODEL_GRAPH_OPTIMIZATION') ?? DEFAULT_SESSION_SETTINGS.graphOptimizationLevel
  const levels = ['disabled', 'basic', 'extended', 'layout', 'all'] as const
  if (!(levels as readonly string[]).includes(level)) {
    throw new ConfigurationError(`MODEL_GRAPH_OPTIMIZATION must be one of ${levels.join(', ')}, got "${level}"`)
  }
  const spinning = value('MODEL_INTRA_OP_SPINNING') ?? defaultOf('MODEL_INTRA_OP_SPINNING')
  if (spinning !== '0' && spinning !== '1') throw new ConfigurationError(`MODEL_INTRA_OP_SPINNING must be 0 or 1, got "${spinning}"`)
  const prefault = value('MODEL_PREFAULT') ?? 'auto'
  if (prefault !== 'auto' && prefault !== '0' && prefault !== '1') throw new ConfigurationError(`MODEL_PREFAULT must be auto, 0 or 1, got "${prefault}"`)
  const optimizedGraph = value('MODEL_OPTIMIZED_GRAPH') ?? defaultOf('MODEL_OPTIMIZED_GRAPH')
  if (!(OPTIMIZED_GRAPH_MODES as readonly string[]).includes(optimizedGraph)) {
    throw new ConfigurationError(`MODEL_OPTIMIZED_GRAPH must be one of ${OPTIMIZED_GRAPH_MODES.join(', ')}, got "${optimizedGraph}"`)
  }
  const readThread = value('MODEL_DOWNLOAD_THREAD') ?? defaultOf('MODEL_DOWNLOAD_THREAD')
  if (readThread !== 'worker' && readThread !== 'main') throw new ConfigurationError(`MODEL_DOWNLOAD_THREAD must be worker or main, got "${readThread}"`)
  const std = triple('IMAGE_STD')
  if (std.some((s) => s <= 0)) throw new ConfigurationError(`IMAGE_STD must be three positive numbers, got "${std.join(',')}"`)
  const size = integer('IMAGE_SIZE', 1)
  const resize = value('IMAGE_RESIZE') === undefined ? undefined : integer('IMAGE_RESIZE', size)

  return {
    bucket,
    weightsKey,
    labelsKey,
    pin: weightsVersionId === undefined || labelsVersionId === undefined
      ? undefined
      : {
          bucket,
          weightsKey,
          weightsVersionId,
          weightsSha256: value(PIN_ENVIRONMENT.weightsSha256),
          labelsKey,
          labelsVersionId,
          labelsSha256: value(PIN_ENVIRONMENT.labelsSha256),
        },
    release: release === undefined ? undefined : Number(release),
    allowLatest: allowLatest === '1',
    outputBucket: required('OUTPUT_BUCKET'),
    outputPrefix: value('OUTPUT_PREFIX') ?? '',
    cacheMaxBytes: integer('MODEL_CACHE_MAX_BYTES', 0),
    session: { graphOptimizationLevel: level as SessionSettings['graphOptimizationLevel'], intraOpNumThreads: integer('MODEL_INTRA_OP_THREADS', 0), spinning: spinning === '1' },
    download: downloadSettings(env, (name, min) => value(name) === undefined ? undefined : integer(name, min)),
    prefault: prefault === '1' || (prefault === 'auto' && allocatorRetainsMemory(env)),
    optimizedGraph: optimizedGraph as OptimizedGraphMode,
    readThread,
    image: { size, resize, mean: triple('IMAGE_MEAN'), std },
  }
}

/** The download settings: the variables when set, else the defaults for AWS or a gateway (read-settings.ts). */
function downloadSettings (env: Env, setting: (name: string, min: number) => number | undefined): HandlerConfig['download'] {
  const defaults = defaultDownload(usesGateway(env))
  return {
    partBytes: setting('MODEL_DOWNLOAD_PART_BYTES', 64 * 1024) ?? defaults.partBytes,
    concurrency: setting('MODEL_DOWNLOAD_CONCURRENCY', 1) ?? defaults.concurrency,
  }
}

function defaultOf (name: string): string {
  return CONFIG_VARIABLES.find((v) => v.name === name)?.default ?? ''
}

function describe (name: string): string {
  return CONFIG_VARIABLES.find((v) => v.name === name)?.description ?? 'required'
}
