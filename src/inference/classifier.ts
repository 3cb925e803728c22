import type * as Ort from 'onnxruntime-node'
import { InvalidModelError } from './errors.js'

type OrtModule = typeof Ort
let ortLoading: Promise<OrtModule> | undefined

/**
 * ONNX Runtime, imported on first use rather than with this module: a function's init phase starts the model's
 * download first and loads the runtime while the bytes arrive (model-loader.ts).
 */
export async function loadOnnxRuntime (): Promise<OrtModule> {
  ortLoading ??= import('onnxruntime-node').then((module) => ('InferenceSession' in module ? module : (module as { default: OrtModule }).default))
  return await ortLoading
}

/** ONNX Runtime settings of every session modelpin creates (and of the benchmark's bare baseline). */
export interface SessionSettings {
  /**
   * `all` (ORT's default) adds the NCHWc layout transform: session creation costs 0.1-0.3 s more than `basic`
   * for a ResNet-50 here, and every run is about a quarter faster (S3-LOCAL.md). A warm function runs far more
   * often than it loads, so `all` is the default; `MODEL_GRAPH_OPTIMIZATION` trades it for faster cold loads.
   */
  graphOptimizationLevel: 'disabled' | 'basic' | 'extended' | 'layout' | 'all'
  /** Threads for one run; 0 lets ORT use one per physical core (Lambda gives 2 vCPUs at 1769 MB and above). */
  intraOpNumThreads: number
  /**
   * Whether ORT's intra-op threads spin (busy-wait) between operators and after a run instead of sleeping. Off by
   * default: spinning threads burn the CPU that everything else needs at once, the S3 read and sharp's decode of the
   * next request, a Lambda's CPU share, and here radosgw on the same two cores. Measured on this 2-core machine
   * while other work ran: a bare ResNet-50 run took 380-670 ms with spinning and 90-190 ms without.
   */
  spinning: boolean
}

export const DEFAULT_SESSION_SETTINGS: SessionSettings = { graphOptimizationLevel: 'all', intraOpNumThreads: 0, spinning: false }

/** The ORT session options for `settings`: sequential execution, as a ResNet is one chain of operators. */
export function sessionOptions (settings: SessionSettings): Ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: settings.graphOptimizationLevel,
    executionMode: 'sequential',
    ...(settings.intraOpNumThreads > 0 ? { intraOpNumThreads: settings.intraOpNumThreads } : {}),
    // ORT's session configuration key session.intra_op.allow_spinning ("1" by default)
    extra: { session: { intra_op: { allow_spinning: settings.spinning ? '1' : '0' } } },
  }
}

/**
 * A 70-byte ONNX model (one Identity node, written with onnx-proto). The first session a process creates also
 * initialises ONNX Runtime itself (environment, thread pools, device discovery: about 35 ms here); creating this
 * one first moves that cost off the first real load, into the init phase or under the download.
 */
const WARM_UP_MODEL = Buffer.from('CAg6PAoQCgF4EgF5IghJZGVudGl0eRIGd2FybXVwWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==', 'base64')
let warming: Promise<void> | undefined

/** Initialises ONNX Runtime once per process; safe to call often. Never rejects: a broken runtime fails the real load. */
export async function warmUpRuntime (): Promise<void> {
  warming ??= loadOnnxRuntime()
    .then(async (ort) => await ort.InferenceSession.create(WARM_UP_MODEL))
    .then(async (session) => await session.release(), () => {})
  await warming
}

/** What an image classifier expects and produces, read from the session so a zoo model loads unchanged. */
export interface ClassifierShape {
  inputName: string
  outputName: string
  /** Side of the square input when the model fixes it; undefined when the height and width are symbolic. */
  inputSize: number | undefined
  classCount: number
}

/** How a session is made from its bytes (optimized-graph.ts). */
export interface GraphOptions {
  /**
   * The bytes are a graph ONNX Runtime optimised and saved in ORT format: loaded with optimisation `disabled`, its
   * initializers used in place (the classifier keeps the bytes for the session's lifetime).
   */
  optimizedGraph?: boolean
  /** Save the graph ONNX Runtime optimised, in ORT format, to this file while creating the session. */
  saveOptimizedGraphTo?: string
}

/** The session options for `settings` and `graph`. */
export function graphSessionOptions (settings: SessionSettings, graph: GraphOptions): Ort.InferenceSession.SessionOptions {
  const options = sessionOptions(settings)
  const session = (options.extra as { session: Record<string, unknown> }).session
  if (graph.optimizedGraph === true) {
    options.graphOptimizationLevel = 'disabled'
    // ORT's session configuration keys session.use_ort_model_bytes_directly and ..._for_initializers
    Object.assign(session, { use_ort_model_bytes_directly: '1', use_ort_model_bytes_for_initializers: '1' })
  } else if (graph.saveOptimizedGraphTo !== undefined) {
    options.optimizedModelFilePath = graph.saveOptimizedGraphTo
    session.save_model_format = 'ORT'
    // Errors only: saving an `all` graph makes ORT warn that it is specific to this machine, which the graph's key
    // and metadata already carry (optimized-graph.ts).
    options.logSeverityLevel = 3
  }
  return options
}

/** An ONNX Runtime session for one image classifier (one float32 NCHW input with 3 channels, one output of scores). */
export class Classifier implements ClassifierShape {
  /** A session made from a saved graph uses these bytes in place: they must live as long as it does. */
  private modelBytes: Uint8Array | undefined

  private constructor (
    /** The ONNX Runtime session itself (the benchmark times a bare `session.run` of it against the handler). */
    readonly session: Ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
    readonly inputSize: number | undefined,
    readonly classCount: number,
    private readonly Tensor: OrtModule['Tensor']
  ) {}

  /** Creates the session from the weights bytes and checks that it is an image classifier. */
  static async create (weights: Uint8Array, settings: SessionSettings = DEFAULT_SESSION_SETTINGS, fallbackSize = 224, graph: GraphOptions = {}): Promise<Classifier> {
    if (weights.byteLength === 0) throw new InvalidModelError('the weights are empty (0 bytes)')
    const ort = await loadOnnxRuntime()
    let session: Ort.InferenceSession
    try {
      session = await ort.InferenceSession.create(weights, graphSessionOptions(settings, graph))
    } catch (error) {
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error)
      throw new InvalidModelError(`the weights are not an ONNX model ONNX Runtime can load: ${message}`, { cause: error })
    }
    try {
      const shape = describe(session)
      let classCount = shape.classCount
      if (classCount === 0) {
        // The output's class dimension is symbolic: one run on zeros tells it.
        const size = shape.inputSize ?? fallbackSize
        const out = await session.run({ [shape.inputName]: new ort.Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) })
        classCount = out[shape.outputName]!.dims.at(-1) ?? 0
      }
      const classifier = new Classifier(session, shape.inputName, shape.outputName, shape.inputSize, classCount, ort.Tensor)
      if (graph.optimizedGraph === true) classifier.modelBytes = weights
      return classifier
    } catch (error) {
      await session.release()
      if (error instanceof InvalidModelError) throw error
      throw new InvalidModelError(`the model could not run: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
  }

  /** Runs one NCHW float32 image of side `size` and returns the output scores. */
  async run (input: Float32Array, size: number): Promise<Float32Array> {
    const feeds = { [this.inputName]: new this.Tensor('float32', input, [1, 3, size, size]) }
    const out = await this.session.run(feeds, [this.outputName])
    return out[this.outputName]!.data as Float32Array
  }

  /** Frees the session's native memory; the classifier must not run afterwards. */
  async release (): Promise<void> {
    await this.session.release()
    this.modelBytes = undefined
  }
}

function describe (session: Ort.InferenceSession): Omit<ClassifierShape, 'classCount'> & { classCount: number } {
  if (session.inputNames.length !== 1) {
    throw new InvalidModelError(`the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); an image classifier has one`)
  }
  const input = session.inputMetadata[0]
  const output = session.outputMetadata[0]
  if (input === undefined || !input.isTensor || input.type !== 'float32') {
    throw new InvalidModelError('the model\'s input is not a float32 tensor')
  }
  if (output === undefined || !output.isTensor || output.type !== 'float32') {
    throw new InvalidModelError('the model\'s first output is not a float32 tensor')
  }
  const dims = input.shape
  if (dims.length !== 4 || (typeof dims[1] === 'number' && dims[1] !== 3)) {
    throw new InvalidModelError(`the model's input ${input.name} is [${dims.join(', ')}]; expected [N, 3, height, width] (NCHW RGB)`)
  }
  const [height, width] = [dims[2], dims[3]]
  if (typeof height === 'number' && typeof width === 'number' && height !== width) {
    throw new InvalidModelError(`the model's input is ${height}x${width}; only square inputs are supported`)
  }
  const last = output.shape.at(-1)
  return {
    inputName: input.name,
    outputName: output.name,
    inputSize: typeof height === 'number' ? height : typeof width === 'number' ? width : undefined,
    classCount: typeof last === 'number' ? last : 0,
  }
}
