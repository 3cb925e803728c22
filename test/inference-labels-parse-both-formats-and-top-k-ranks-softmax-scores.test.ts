import t from 'tap'
import { parseLabels } from '../src/inference/labels.js'
import { scores, topK } from '../src/inference/top-k.js'
import { demoLabels, labelName } from './helpers/models.js'

t.test('synset lines lose their WordNet id; plain lines are labels as they are', async (t) => {
  t.same(parseLabels('n01440764 tench, Tinca tinca\nn01443537 goldfish\n'), ['tench, Tinca tinca', 'goldfish'])
  t.same(parseLabels('\uFEFFcat\r\ndog\r\n\r\n'), ['cat', 'dog'], 'BOM, CRLF and trailing blank lines are ignored')
  t.same(parseLabels('n01440764 tench\nnot a synset\n'), ['n01440764 tench', 'not a synset'], 'a mixed file is read line by line')
  t.equal(parseLabels(demoLabels(1).toString())[100], labelName(1, 100))
  t.equal(parseLabels(demoLabels(2).toString())[100], labelName(2, 100))
})

t.test('the label count must match the model\'s classes', async (t) => {
  t.throws(() => parseLabels('a\nb\nc\n', 1000, 's3://b/labels.txt (VersionId v)'), {
    name: 'LabelsMismatchError', message: 's3://b/labels.txt (VersionId v) has 3 labels but the model has 1000 classes',
  })
  t.throws(() => parseLabels('\n\n'), { name: 'LabelsMismatchError', message: /no labels/ })
  t.equal(parseLabels(demoLabels(1).toString(), 1000).length, 1000)
})

t.test('softmax scores sum to one and keep the order of the logits', async (t) => {
  const p = scores(Float32Array.from([1, 3, 2, -4]))
  t.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6)
  t.ok(p[1]! > p[2]! && p[2]! > p[0]! && p[0]! > p[3]!)
  t.ok(Math.abs(p[1]! / p[2]! - Math.E) < 1e-5, 'one logit more is e times the score')
  const large = scores(Float32Array.from([1000, 999]))
  t.ok(Number.isFinite(large[0]!) && Math.abs(large[0]! - 1 / (1 + Math.exp(-1))) < 1e-6, 'large logits do not overflow')
  const already = Float32Array.from([0.1, 0.7, 0.2])
  t.equal(scores(already), already, 'an output that already is a distribution is kept as it is')
})

t.test('top-k returns the k best, best first, ties by lower index, with labels', async (t) => {
  const p = Float32Array.from([0.1, 0.3, 0.05, 0.3, 0.25])
  t.same(topK(p, ['a', 'b', 'c', 'd', 'e'], 3).map((x) => [x.index, x.label]), [[1, 'b'], [3, 'd'], [4, 'e']])
  t.equal(topK(p, ['a'], 10).length, 5, 'k larger than the classes returns them all')
  t.equal(topK(p, [], 1)[0]!.label, '1', 'a class without a label is named by its index')
  const random = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i * 7.1) + 1)
  const sorted = [...random.keys()].sort((a, b) => random[b]! - random[a]! || a - b).slice(0, 5)
  t.same(topK(random, [], 5).map((x) => x.index), sorted)
})
