import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { generateModelSet } from '../src/local/demo-models/model-set.js'
import { buildModel } from '../src/local/demo-models/resnet.js'
import { Classifier } from '../src/inference/classifier.js'
import { parseLabels } from '../src/inference/labels.js'
import { preprocessImage } from '../src/inference/preprocess.js'
import { scores, topK } from '../src/inference/top-k.js'
import { colourPhoto } from './helpers/images.js'
import { demoLabels, expectedTopLabel, sha256 } from './helpers/models.js'

t.test('the same seed gives the same bytes; another seed or version gives others', async (t) => {
  const a = buildModel('tiny', 1, 7).bytes
  t.equal(sha256(buildModel('tiny', 1, 7).bytes), sha256(a))
  t.not(sha256(buildModel('tiny', 1, 8).bytes), sha256(a))
  t.not(sha256(buildModel('tiny', 2, 7).bytes), sha256(a))
  t.ok(a.byteLength < 2_000_000, `the tiny model is ${a.byteLength} bytes`)
})

t.test('the full-size model is a ResNet-50: 25.6 M parameters, about 100 MB, and its colour head answers', async (t) => {
  const { bytes, parameterCount } = buildModel('resnet50', 1, 50)
  // torchvision's resnet50 has 25,557,032 parameters; the colour head adds 3 x 1000 weights and 1000 biases.
  t.equal(parameterCount, 25_557_032 + 4000)
  t.ok(bytes.byteLength > 100e6 && bytes.byteLength < 105e6, `${bytes.byteLength} bytes`)
  const classifier = await Classifier.create(bytes)
  t.teardown(() => classifier.release())
  t.same([classifier.inputName, classifier.inputSize, classifier.classCount], ['data', 224, 1000])
  const labels = parseLabels(demoLabels(1).toString(), 1000)
  const out = await classifier.run(await preprocessImage(await colourPhoto('red')), 224)
  t.equal(topK(scores(out), labels, 1)[0]!.label, expectedTopLabel(1, 1, 'red'))
})

t.test('generateModelSet writes two weights and two labels versions, and keeps identical files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'modelpin-models-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const messages: string[] = []
  const set = await generateModelSet({ kind: 'tiny', outDir: dir, onProgress: (m) => messages.push(m) })
  t.same(set.weights, [join(dir, 'model-v1.onnx'), join(dir, 'model-v2.onnx')])
  t.same(set.labels, [join(dir, 'labels-v1.txt'), join(dir, 'labels-v2.txt')])
  t.equal(set.sha256[set.weights[0]!], sha256(buildModel('tiny', 1, 7).bytes))
  t.equal(set.sha256[set.labels[1]!], sha256(demoLabels(2)))
  const written = (await stat(set.weights[0]!)).mtimeMs
  const again = await generateModelSet({ kind: 'tiny', outDir: dir, onProgress: (m) => messages.push(m) })
  t.same(again, set)
  t.equal((await stat(set.weights[0]!)).mtimeMs, written, 'not rewritten')
  t.match(messages.at(-1), /up to date/)
  const reseeded = await generateModelSet({ kind: 'tiny', outDir: dir, seed: 9 })
  t.not(reseeded.sha256[set.weights[0]!], set.sha256[set.weights[0]!], 'another seed rebuilds')
})
