// Ratios that hold still: the sides of a comparison (ours and its peers) are measured in
// interleaved rounds of the same duration — ours, peer, ours, peer …, the order reversed every
// other round — so the machine's drift over minutes hits every side alike. A ratio between two
// sides of one group is the median of its per-round ratios, reported with its min–max and the
// number of rounds. Latency is measured once per side that asks for it, after the rounds, at a
// fixed offered rate of half its median throughput.
import type { Child } from './processes.js'
import type { RunContext } from './context.js'
import { problemsOf, runLoad, type Measurement, type RequestSpec, type RunStats } from './load.js'
import { firstReply } from './scenario-kit.js'
import { validationBetween, validationSnapshot, type ValidationReading } from './metrics.js'
import { round } from './stats.js'
import { cpuPerRequest, cpuReading } from './cpu.js'

export interface Side {
  child: Child
  key: string
  label: string
  kind: Measurement['kind']
  spec: RequestSpec
  /** measure p99 at half saturation after the rounds (every auth scenario of ours) */
  latency?: boolean
  /** read the server's validation histogram and cache counters around that latency run */
  validationMetrics?: boolean
}

/** the per-round throughputs of one side, and the group whose rounds they were */
export interface SideRounds { group: string; reqPerSec: number[] }

export interface RoundsRatio {
  rounds: number
  median: number
  min: number
  max: number
  perRound: number[]
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export function describeRounds (r: RoundsRatio): string {
  return `${round(r.median)}× median of ${r.rounds} interleaved rounds (min ${round(r.min)}×, max ${round(r.max)}×)`
}

/** the ratio a ÷ b from their rounds, when both were measured in the same group */
export function roundsRatio (rounds: Map<string, SideRounds>, a: string, b: string): RoundsRatio | null {
  const ra = rounds.get(a)
  const rb = rounds.get(b)
  if (!ra || !rb || ra.group !== rb.group || ra.reqPerSec.length !== rb.reqPerSec.length || ra.reqPerSec.length === 0) return null
  const perRound = ra.reqPerSec.map((v, i) => v / rb.reqPerSec[i]!)
  return { rounds: perRound.length, median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), perRound: perRound.map(v => round(v, 3)) }
}

const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/**
 * Measures every side in `ctx.shape.rounds` interleaved rounds, then the latency of the sides
 * that ask for it. Records each side's median-throughput round (and its latency) in the run's
 * measurements and its per-round figures in `ctx.rounds`; returns the measurements and the
 * validation readings by side key.
 */
export async function measureInRounds (ctx: RunContext, group: string, sides: Side[]): Promise<{ measurements: Measurement[]; validation: Record<string, ValidationReading> }> {
  for (const s of sides) {
    const reply = await firstReply(s.child.url, s.spec)
    if (reply.status < 200 || reply.status > 299) throw new Error(`${s.label}: the first request answered ${reply.status}, expected 2xx: ${reply.body.slice(0, 200)}`)
  }
  const runs = new Map<string, RunStats[]>(sides.map(s => [s.key, []]))
  const { shape } = ctx
  for (let r = 0; r < shape.rounds; r++) {
    const order = r % 2 ? [...sides].reverse() : sides
    console.error(`bench:   ${group}: round ${r + 1} of ${shape.rounds}`)
    for (const s of order) {
      await runLoad({ url: s.child.url, spec: s.spec, connections: shape.connections, durationS: r === 0 ? shape.warmupS : shape.roundWarmupS })
      const before = await cpuReading(s.child.pid, ctx.redis)
      const run = await runLoad({ url: s.child.url, spec: s.spec, connections: shape.connections, durationS: shape.roundS })
      runs.get(s.key)!.push({ ...run, cpu: cpuPerRequest(before, await cpuReading(s.child.pid, ctx.redis), run.total) })
      await pause(200)
    }
  }

  const measurements: Measurement[] = []
  const validation: Record<string, ValidationReading> = {}
  for (const s of sides) {
    const all = runs.get(s.key)!
    ctx.rounds.set(s.key, { group, reqPerSec: all.map(x => x.reqPerSec) })
    const saturation = [...all].sort((a, b) => a.reqPerSec - b.reqPerSec)[all.length >> 1]!
    // every round's errors and non-2xx count, not only the median one's
    const sum = (pick: (x: RunStats) => number): number => all.reduce((n, x) => n + pick(x), 0)
    const checked: RunStats = { ...saturation, errors: sum(x => x.errors), timeouts: sum(x => x.timeouts), non2xx: sum(x => x.non2xx), total: sum(x => x.total) }
    const m: Measurement = { key: s.key, label: s.label, kind: s.kind, expect2xx: s.spec.expect2xx ?? true, saturation: checked }
    if (s.latency) {
      const offered = Math.max(1, Math.round(median(all.map(x => x.reqPerSec)) / 2))
      const before = s.validationMetrics ? await validationSnapshot(s.child.url) : null
      const halfRate = await runLoad({ url: s.child.url, spec: s.spec, connections: Math.min(shape.rateConnections, offered), durationS: shape.rateDurationS, overallRate: offered })
      const after = s.validationMetrics ? await validationSnapshot(s.child.url) : null
      if (before && after) validation[s.key] = validationBetween(before, after)
      m.halfRate = { ...halfRate, offered }
      await pause(200)
    }
    if (problemsOf(m).length) m.serverLog = s.child.logTail(3).map(line => line.slice(0, 300))
    ctx.measurements.set(s.key, m)
    measurements.push(m)
  }
  return { measurements, validation }
}
