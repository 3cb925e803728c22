import { createHash } from 'node:crypto'
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { DEFAULT_SEED } from '../../src/local/demo-models/model-set.js'
import { DEMO_VERSIONS, expectedTopLabel, labelsText, type Colour, type DemoVersion } from '../../src/local/demo-models/classes.js'
import { buildModel } from '../../src/local/demo-models/resnet.js'
import { readConfig, type HandlerConfig } from '../../lambda/config.js'
import { createHandler } from '../../lambda/handler.js'
import { createTestBucket } from './s3.js'
import { pinToEnvironment, type ModelPin } from '../../src/contract/pin.js'

export { expectedTopLabel, COLOUR_CLASS, labelName, labelsText } from '../../src/local/demo-models/classes.js'
export type { Colour, DemoVersion } from '../../src/local/demo-models/classes.js'

const built = new Map<DemoVersion, Buffer>()

/** The tiny model's weights version `version` (built once per process, about 20 ms; 600 kB). */
export function tinyWeights (version: DemoVersion): Buffer {
  let bytes = built.get(version)
  if (bytes === undefined) {
    const model = buildModel('tiny', version, DEFAULT_SEED.tiny)
    bytes = Buffer.from(model.bytes.buffer, model.bytes.byteOffset, model.bytes.byteLength)
    built.set(version, bytes)
  }
  return bytes
}

/** Labels version `version` of the demo models (1000 classes; version 1 in synset format). */
export function demoLabels (version: DemoVersion): Buffer {
  return Buffer.from(labelsText(version))
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

export interface UploadedModel {
  bucket: string
  weightsKey: string
  labelsKey: string
  /** VersionIds of weights version 1 and 2. */
  weights: [string, string]
  /** VersionIds of labels version 1 and 2. */
  labels: [string, string]
  sha256: { weights: [string, string], labels: [string, string] }
}

/**
 * Uploads the tiny model's two weights versions and two labels versions (in that order, so version 2 is the
 * latest of each key) into a versioned bucket, and returns their VersionIds and digests.
 */
export async function uploadTinyModel (
  s3: S3Client, bucket: string, options: { weightsKey?: string, labelsKey?: string } = {}
): Promise<UploadedModel> {
  const weightsKey = options.weightsKey ?? 'tiny/model.onnx'
  const labelsKey = options.labelsKey ?? 'tiny/labels.txt'
  const put = async (key: string, body: Buffer): Promise<string> => {
    const out = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
    if (out.VersionId === undefined) throw new Error(`bucket ${bucket} is not versioned`)
    return out.VersionId
  }
  const weights: string[] = []
  const labels: string[] = []
  for (const version of DEMO_VERSIONS) weights.push(await put(weightsKey, tinyWeights(version)))
  for (const version of DEMO_VERSIONS) labels.push(await put(labelsKey, demoLabels(version)))
  return {
    bucket,
    weightsKey,
    labelsKey,
    weights: weights as [string, string],
    labels: labels as [string, string],
    sha256: {
      weights: [sha256(tinyWeights(1)), sha256(tinyWeights(2))],
      labels: [sha256(demoLabels(1)), sha256(demoLabels(2))],
    },
  }
}

/** The pin of (weights version `w`, labels version `l`) of an uploaded model, with digests unless told otherwise. */
export function pinOf (model: UploadedModel, w: DemoVersion, l: DemoVersion, withDigests = true): ModelPin {
  return {
    bucket: model.bucket,
    weightsKey: model.weightsKey,
    weightsVersionId: model.weights[w - 1]!,
    weightsSha256: withDigests ? model.sha256.weights[w - 1] : undefined,
    labelsKey: model.labelsKey,
    labelsVersionId: model.labels[l - 1]!,
    labelsSha256: withDigests ? model.sha256.labels[l - 1] : undefined,
  }
}

/** The top label an image of `colour` gets from (weights `w`, labels `l`); same as `expectedTopLabel`. */
export function expectedLabel (w: DemoVersion, l: DemoVersion, colour: Colour): string {
  return expectedTopLabel(w, l, colour)
}

/**
 * A handler configuration over an uploaded model: pinned to (weights `pin[0]`, labels `pin[1]`) with digests, or
 * to nothing when `pin` is null; `env` adds or overrides variables.
 */
export function handlerConfig (
  model: UploadedModel, outputBucket: string, pin: [DemoVersion, DemoVersion] | null = [1, 1], env: Record<string, string> = {}
): HandlerConfig {
  const base: Record<string, string> = pin === null
    ? { MODEL_BUCKET: model.bucket, MODEL_WEIGHTS_KEY: model.weightsKey, MODEL_LABELS_KEY: model.labelsKey }
    : pinToEnvironment(pinOf(model, pin[0], pin[1]))
  return readConfig({ ...base, OUTPUT_BUCKET: outputBucket, ...env })
}

/**
 * A handler over the tiny model in fresh test buckets: the versioned model bucket, an input bucket and an unversioned
 * output bucket. `pin` is what its configuration pins (null: no version IDs), `env` any other variables.
 */
export async function handlerTestbed (
  t: Parameters<typeof createTestBucket>[0], s3: S3Client,
  pin: [DemoVersion, DemoVersion] | null = [1, 1], env: Record<string, string> = {}
) {
  const bucket = await createTestBucket(t, s3)
  const inputs = await createTestBucket(t, s3)
  const outputs = await createTestBucket(t, s3, { versioned: false })
  const model = await uploadTinyModel(s3, bucket)
  const { logger, lines } = capturingLogger()
  const handler = createHandler(handlerConfig(model, outputs, pin, env), { s3, logger })
  return { model, inputs, outputs, handler, lines }
}

/** A pino logger whose lines are kept as parsed objects, so tests can check what every line carries. */
export function capturingLogger (): { logger: Logger, lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const destination = new Writable({
    write (chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, destination), lines }
}
