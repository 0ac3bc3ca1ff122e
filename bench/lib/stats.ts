// Percentiles over raw samples (ms). autocannon's own histogram keeps whole milliseconds,
// too coarse for sub-millisecond medians, so the bench records every response time itself.

export interface Percentiles {
  count: number
  p50: number
  p975: number
  p99: number
  max: number
}

/** a growable Float64Array: one push per response, no garbage on the hot path */
export class Samples {
  private data = new Float64Array(1 << 16)
  private n = 0

  push (v: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = v
  }

  get length (): number { return this.n }

  percentiles (): Percentiles {
    return percentiles(this.data.subarray(0, this.n))
  }
}

function percentiles (values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort()
  const at = (q: number): number => sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]! : NaN
  const r = (v: number): number => round(v, 3)
  return { count: sorted.length, p50: r(at(0.5)), p975: r(at(0.975)), p99: r(at(0.99)), max: r(sorted.length ? sorted[sorted.length - 1]! : NaN) }
}

export function round (v: number, digits = 2): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}
