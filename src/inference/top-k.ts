export interface Prediction {
  index: number
  label: string
  score: number
}

/**
 * Scores from the model's output: softmax of logits, unless the output already is a probability distribution
 * (some exported models end in a Softmax node; applying it twice would flatten every score towards 1/n).
 */
export function scores (output: Float32Array): Float32Array {
  let sum = 0
  let max = -Infinity
  let inUnitRange = true
  for (const v of output) {
    sum += v
    if (v > max) max = v
    if (v < 0 || v > 1) inUnitRange = false
  }
  if (inUnitRange && Math.abs(sum - 1) < 1e-3) return output
  const exps = new Float32Array(output.length)
  let total = 0
  for (let i = 0; i < output.length; i++) {
    const e = Math.exp(output[i]! - max)
    exps[i] = e
    total += e
  }
  for (let i = 0; i < exps.length; i++) exps[i] = exps[i]! / total
  return exps
}

/** The `k` highest scores, best first (ties by lower index), with their labels. */
export function topK (probabilities: Float32Array, labels: readonly string[], k: number): Prediction[] {
  const count = Math.min(k, probabilities.length)
  const best: number[] = []
  // k is small (5) next to 1000 classes: an insertion into a short sorted list beats sorting everything.
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!
    if (best.length === count && p <= probabilities[best[count - 1]!]!) continue
    let at = best.length === count ? count - 1 : best.length
    while (at > 0 && probabilities[best[at - 1]!]! < p) {
      best[at] = best[at - 1]!
      at--
    }
    best[at] = i
  }
  return best.map((index) => ({ index, label: labels[index] ?? String(index), score: probabilities[index]! }))
}
