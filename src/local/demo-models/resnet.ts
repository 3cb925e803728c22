import { CLASS_COUNT, COLOUR_CLASS, COLOURS, type DemoVersion } from './classes.js'
import { GraphBuilder, encodeModel, seededRandom } from './onnx-graph.js'

/** `resnet50`: the full-size demo and benchmark model; `tiny`: a few residual blocks for fast tests. */
export type ModelKind = 'resnet50' | 'tiny'

export const INPUT_NAME = 'data'
export const OUTPUT_NAME = 'logits'

/**
 * Gain of the colour head. The colour term of the matching class is about gain x 2 for a strongly tinted photo
 * (normalised channel means near +-1), while the seeded ResNet body's logits stay within a few units, so the colour
 * class wins by a wide margin and its softmax score is close to 1.
 */
const COLOUR_GAIN = 12

/**
 * Rows of the colour head per class: +1 on the class's own channel and -0.5 on the other two, so a grey image
 * (equal channels) scores about zero and only a dominant colour lifts its class.
 */
function colourHeadWeights (version: DemoVersion): Float32Array {
  const weights = new Float32Array(CLASS_COUNT * 3)
  COLOURS.forEach((colour, channel) => {
    const row = COLOUR_CLASS[version][colour]
    for (let c = 0; c < 3; c++) weights[row * 3 + c] = COLOUR_GAIN * (c === channel ? 1 : -0.5)
  })
  return weights
}

/** Bottleneck block of ResNet v1.5 (torchvision): the stride sits on the 3x3 convolution. */
function bottleneck (g: GraphBuilder, x: string, inChannels: number, width: number, stride: number): string {
  const out = width * 4
  let y = g.relu(g.batchNorm(g.conv(x, inChannels, width, 1, 1), width))
  y = g.relu(g.batchNorm(g.conv(y, width, width, 3, stride), width))
  y = g.batchNorm(g.conv(y, width, out, 1, 1), out, 0.2)
  const shortcut = stride !== 1 || inChannels !== out ? g.batchNorm(g.conv(x, inChannels, out, 1, stride), out) : x
  return g.relu(g.node('Add', [y, shortcut]))
}

/** Basic block of ResNet-18/34, used by the tiny model. */
function basicBlock (g: GraphBuilder, x: string, inChannels: number, out: number, stride: number): string {
  let y = g.relu(g.batchNorm(g.conv(x, inChannels, out, 3, stride), out))
  y = g.batchNorm(g.conv(y, out, out, 3, 1), out, 0.2)
  const shortcut = stride !== 1 || inChannels !== out ? g.batchNorm(g.conv(x, inChannels, out, 1, stride), out) : x
  return g.relu(g.node('Add', [y, shortcut]))
}

function stem (g: GraphBuilder, input: string, channels: number): string {
  const y = g.relu(g.batchNorm(g.conv(input, 3, channels, 7, 2), channels))
  return g.node('MaxPool', [y], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })
}

/** Classifier head plus the colour head (see classes.ts) added to the logits. */
function head (g: GraphBuilder, input: string, features: string, channels: number, version: DemoVersion): void {
  const pooled = g.node('Flatten', [g.node('GlobalAveragePool', [features])], { axis: 1 })
  const body = g.linear(pooled, channels, CLASS_COUNT, 1 / Math.sqrt(channels))
  const colour = g.node('Flatten', [g.node('GlobalAveragePool', [input])], { axis: 1 })
  const colourLogits = g.linear(colour, 3, CLASS_COUNT, 0, undefined, colourHeadWeights(version))
  g.node('Add', [body, colourLogits], {}, OUTPUT_NAME)
}

/** Seed of one weights version: versions differ in every weight, as two trainings of one architecture would. */
function versionSeed (seed: number, version: DemoVersion): number {
  return (Math.imul(seed, 0x9e3779b1) + version) >>> 0
}

export interface BuiltModel {
  bytes: Uint8Array
  parameterCount: number
}

/** How the input is declared, to imitate models exported by other tools. */
export interface InputVariant {
  /** Default `data` (the ONNX model zoo's ResNets). */
  name?: string
  /** A fixed square side with batch 1; by default the batch is symbolic (`N`) and the side 224. */
  size?: number
}

/**
 * Builds one weights version of a demo model as ONNX bytes: the same (kind, version, seed) always gives the same
 * bytes. `onProgress` is called per stage with the share done (the full ResNet-50 takes a few seconds).
 */
export function buildModel (
  kind: ModelKind, version: DemoVersion, seed: number, onProgress?: (done: number) => void, input: InputVariant = {}
): BuiltModel {
  const g = new GraphBuilder(seededRandom(versionSeed(seed, version)))
  const inputName = input.name ?? INPUT_NAME
  let x: string
  let channels: number
  if (kind === 'resnet50') {
    // ResNet-50: [3, 4, 6, 3] bottlenecks of widths 64..512, 25.6 M parameters (He et al. 2016, torchvision v1.5).
    x = stem(g, inputName, 64)
    channels = 64
    const stages: Array<[number, number]> = [[64, 3], [128, 4], [256, 6], [512, 3]]
    stages.forEach(([width, blocks], stage) => {
      for (let b = 0; b < blocks; b++) {
        x = bottleneck(g, x, channels, width, b === 0 && stage > 0 ? 2 : 1)
        channels = width * 4
      }
      onProgress?.((stage + 1) / (stages.length + 1))
    })
  } else {
    x = stem(g, inputName, 16)
    channels = 16
    for (const [out, stride] of [[16, 1], [32, 2], [64, 2]] as const) {
      x = basicBlock(g, x, channels, out, stride)
      channels = out
    }
  }
  head(g, inputName, x, channels, version)
  const bytes = encodeModel(g, {
    name: kind === 'resnet50' ? 'resnet50_v1.5' : 'resnet_tiny',
    docString: `modelpin demo ${kind}, weights version ${version}, seed ${seed}: seeded weights plus a colour head ` +
      '(see src/local/demo-models/classes.ts)',
    input: { name: inputName, shape: input.size === undefined ? ['N', 3, 224, 224] : [1, 3, input.size, input.size] },
    output: { name: OUTPUT_NAME, shape: ['N', CLASS_COUNT] },
  })
  onProgress?.(1)
  return { bytes, parameterCount: g.parameterCount }
}
