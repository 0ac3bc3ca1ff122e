// Ratios that hold still: a pair (ours and its peer) measured in interleaved rounds of the same
// duration, ours, peer, ours, peer …, so the machine's drift over minutes hits both sides alike.
// The ratio reported is the median of the per-round ratios, with its min–max and the count.
import type { Child } from './processes.js'
import type { RunContext } from './context.js'
import { measure, type Measurement, type RequestSpec } from './load.js'
import { measureTarget } from './scenario-kit.js'
import { round } from './stats.js'

export interface Side {
  child: Child
  key: string
  label: string
  kind: Measurement['kind']
  spec: RequestSpec
}

export interface RoundsRatio {
  rounds: number
  median: number
  min: number
  max: number
  perRound: number[]
}

const ROUNDS = 3

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function describeRounds (r: RoundsRatio): string {
  return `${round(r.median)}× median of ${r.rounds} interleaved rounds (min ${round(r.min)}×, max ${round(r.max)}×)`
}

/**
 * Measures ours and the peer alternately, `rounds` times each. The table keeps each side's
 * median-throughput round; the ratio is the median of the per-round ratios.
 */
export async function interleavedRatio (ctx: RunContext, ours: Side, peer: Side, rounds = ROUNDS): Promise<{ ours: Measurement; peer: Measurement; ratio: RoundsRatio }> {
  const mine: Measurement[] = []
  const theirs: Measurement[] = []
  for (let i = 0; i < rounds; i++) {
    // the first round checks a 2xx first (and records), the later ones only measure
    const pick = async (s: Side): Promise<Measurement> => i === 0
      ? measureTarget(ctx, s.child, s.key, s.label, s.kind, s.spec)
      : measure(s.key, s.label, s.kind, s.child.url, s.spec, ctx.shape)
    mine.push(await pick(ours))
    theirs.push(await pick(peer))
  }
  const perRound = mine.map((m, i) => m.saturation.reqPerSec / theirs[i]!.saturation.reqPerSec)
  const middle = (ms: Measurement[]): Measurement => {
    const sorted = [...ms].sort((a, b) => a.saturation.reqPerSec - b.saturation.reqPerSec)
    return sorted[sorted.length >> 1]!
  }
  const o = middle(mine)
  const p = middle(theirs)
  ctx.measurements.set(ours.key, o)
  ctx.measurements.set(peer.key, p)
  return { ours: o, peer: p, ratio: { rounds, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound } }
}
