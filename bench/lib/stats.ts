/** Small statistics for benchmarks: every figure is a median or a percentile of repeated, interleaved samples. */

/** The p-th percentile (0-100) by linear interpolation between closest ranks. */
export function percentile (samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = (p / 100) * (sorted.length - 1)
  const low = Math.floor(rank)
  const high = Math.ceil(rank)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low)
}

export function median (samples: readonly number[]): number {
  return percentile(samples, 50)
}

/** Rounds to `digits` decimals, for printing and for results files. */
export function round (value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}
