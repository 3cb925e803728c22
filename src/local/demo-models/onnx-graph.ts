import onnxProto from 'onnx-proto'

/**
 * A small ONNX graph builder over onnx-proto (protobufjs): enough operators for a ResNet, float32 initializers
 * stored as raw little-endian bytes, and a seeded generator so the same seed always gives the same file.
 */
const { onnx } = onnxProto

/** IR version 8 / opset 13: what onnx-proto 8 (ONNX 1.10) describes, and every ONNX Runtime since 1.8 loads. */
const IR_VERSION = 8
const OPSET = 13

/** mulberry32: a tiny, fast 32-bit generator; plenty for weights that only need to be deterministic. */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type AttributeValue = number | number[]

export class GraphBuilder {
  readonly nodes: onnxProto.onnx.INodeProto[] = []
  readonly initializers: onnxProto.onnx.ITensorProto[] = []
  /** Trainable parameters (weights, biases, batch-norm scale and shift), as papers count them. */
  parameterCount = 0
  private counter = 0

  constructor (readonly random: () => number) {}

  /** A fresh tensor name with a readable prefix. */
  name (prefix: string): string {
    this.counter += 1
    return `${prefix}_${this.counter}`
  }

  /** Adds a float32 initializer. `trainable` says whether it counts as a parameter (running statistics do not). */
  initializer (name: string, dims: number[], data: Float32Array, trainable = true): string {
    if (data.length !== dims.reduce((a, b) => a * b, 1)) throw new Error(`initializer ${name}: data does not match ${dims.join('x')}`)
    this.initializers.push({
      name,
      dims,
      dataType: onnx.TensorProto.DataType.FLOAT,
      // ONNX raw_data is little-endian, as is every machine this runs on (x86-64, arm64).
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    })
    if (trainable) this.parameterCount += data.length
    return name
  }

  /** Uniform values in [-bound, bound]. */
  uniform (count: number, bound: number): Float32Array {
    const data = new Float32Array(count)
    for (let i = 0; i < count; i++) data[i] = (this.random() * 2 - 1) * bound
    return data
  }

  /** Uniform values in [low, high]. */
  between (count: number, low: number, high: number): Float32Array {
    const data = new Float32Array(count)
    for (let i = 0; i < count; i++) data[i] = low + this.random() * (high - low)
    return data
  }

  node (opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    const out = output ?? this.name(opType.toLowerCase())
    this.nodes.push({
      opType,
      name: out,
      input: inputs,
      output: [out],
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    })
    return out
  }

  /** Conv without bias (a batch norm follows), He-uniform weights as torchvision initialises them. */
  conv (x: string, inChannels: number, outChannels: number, kernel: number, stride: number): string {
    const fanIn = inChannels * kernel * kernel
    const weight = this.initializer(this.name('conv_w'), [outChannels, inChannels, kernel, kernel],
      this.uniform(outChannels * fanIn, Math.sqrt(6 / fanIn)))
    const pad = Math.floor(kernel / 2)
    return this.node('Conv', [x, weight], {
      kernel_shape: [kernel, kernel], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1,
    })
  }

  /**
   * Inference-mode batch norm with seeded statistics near identity. `gain` scales gamma: the last norm of each
   * residual branch gets a small one so activations stay bounded through many blocks without trained statistics.
   */
  batchNorm (x: string, channels: number, gain = 1): string {
    const scale = this.initializer(this.name('bn_scale'), [channels], this.between(channels, 0.8 * gain, 1.2 * gain))
    const bias = this.initializer(this.name('bn_bias'), [channels], this.uniform(channels, 0.1))
    const mean = this.initializer(this.name('bn_mean'), [channels], this.uniform(channels, 0.1), false)
    const variance = this.initializer(this.name('bn_var'), [channels], this.between(channels, 0.5, 1.5), false)
    return this.node('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: 1e-5 })
  }

  relu (x: string): string {
    return this.node('Relu', [x])
  }

  /** Fully connected layer as PyTorch exports it: Gemm with B transposed, weights [out, in]. */
  linear (x: string, inFeatures: number, outFeatures: number, bound: number, output?: string, weights?: Float32Array): string {
    const weight = this.initializer(this.name('fc_w'), [outFeatures, inFeatures], weights ?? this.uniform(outFeatures * inFeatures, bound))
    const bias = this.initializer(this.name('fc_b'), [outFeatures], weights === undefined ? this.uniform(outFeatures, bound) : new Float32Array(outFeatures))
    return this.node('Gemm', [x, weight, bias], { alpha: 1, beta: 1, transB: 1 }, output)
  }
}

function attribute (name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const types = onnx.AttributeProto.AttributeType
  if (Array.isArray(value)) return { name, type: types.INTS, ints: value }
  if (Number.isInteger(value) && name !== 'alpha' && name !== 'beta' && name !== 'epsilon') {
    return { name, type: types.INT, i: value }
  }
  return { name, type: types.FLOAT, f: value }
}

export interface GraphSpec {
  name: string
  docString: string
  input: { name: string, shape: Array<number | string> }
  output: { name: string, shape: Array<number | string> }
}

/** Serialises the builder's graph as an ONNX ModelProto. */
export function encodeModel (builder: GraphBuilder, spec: GraphSpec): Uint8Array {
  const valueInfo = (name: string, shape: Array<number | string>): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: shape.map((d) => typeof d === 'number' ? { dimValue: d } : { dimParam: d }) },
      },
    },
  })
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'modelpin',
    producerVersion: '1',
    docString: spec.docString,
    graph: {
      name: spec.name,
      node: builder.nodes,
      initializer: builder.initializers,
      input: [valueInfo(spec.input.name, spec.input.shape)],
      output: [valueInfo(spec.output.name, spec.output.shape)],
    },
  })
  return onnx.ModelProto.encode(model).finish()
}
