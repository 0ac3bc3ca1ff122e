// p95 of the session validation histogram over the last five minutes, read from the default
// registry by name (the sessions code owns the histogram; until it exists the answer is null,
// "no data"). Cumulative bucket counts are snapshotted every few seconds; the window is the
// difference between now and the oldest snapshot, and the quantile is interpolated within a
// bucket exactly as PromQL's histogram_quantile does, so the runbook and the alerts agree.
import { register } from './metrics.js'

const VALIDATION_HISTOGRAM = 'hallpass_session_validation_seconds'
const WINDOW_MS = 5 * 60_000

interface Snapshot { at: number; buckets: Map<number, number> }

async function readBuckets (): Promise<Map<number, number> | null> {
  const metric = register.getSingleMetric(VALIDATION_HISTOGRAM)
  if (!metric) return null
  const { values } = await metric.get()
  const buckets = new Map<number, number>()
  for (const v of values) {
    if ((v as { metricName?: string }).metricName !== `${VALIDATION_HISTOGRAM}_bucket`) continue
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le)
    buckets.set(le, (buckets.get(le) ?? 0) + v.value) // summed over any other labels
  }
  return buckets
}

/** histogram_quantile(q, buckets): upper bounds ascending, cumulative counts */
export function quantile (q: number, buckets: Map<number, number>): number | null {
  const bounds = [...buckets.keys()].sort((a, b) => a - b)
  const total = buckets.get(Infinity) ?? 0
  if (total === 0) return null
  const rank = q * total
  let prevBound = 0
  let prevCount = 0
  for (const le of bounds) {
    const count = buckets.get(le)!
    if (count >= rank) {
      if (le === Infinity) return prevBound // as PromQL: the highest finite bound
      return prevBound + (le - prevBound) * ((rank - prevCount) / (count - prevCount || 1))
    }
    prevBound = le
    prevCount = count
  }
  return null
}

export interface LatencyWindow {
  /** p95 in milliseconds over the last five minutes, or null when there is no sample */
  p95Ms: () => Promise<number | null>
  snapshot: () => Promise<void>
}

export function createLatencyWindow (): LatencyWindow {
  const snapshots: Snapshot[] = []
  const snapshot = async (): Promise<void> => {
    const buckets = await readBuckets()
    if (!buckets) return
    const now = Date.now()
    snapshots.push({ at: now, buckets })
    while (snapshots.length > 1 && snapshots[0]!.at < now - WINDOW_MS) snapshots.shift()
  }
  return {
    snapshot,
    async p95Ms () {
      const current = await readBuckets()
      if (!current) return null
      const base = snapshots[0]?.buckets
      const window = new Map<number, number>()
      for (const [le, count] of current) window.set(le, count - (base?.get(le) ?? 0))
      const q = quantile(0.95, window)
      return q === null ? null : q * 1000
    }
  }
}
