// The server's own view of the validation step: histograms from GET /metrics whose name speaks
// of sessions, auth or validation, read as p50/p99 (the upper bound of the bucket that holds
// the quantile). When the server has no /metrics yet, that is said, not guessed.
import { keepAliveAgent, send } from './http.js'

interface HistogramReading {
  series: string
  count: number
  p50Ms: number | null
  p99Ms: number | null
}

export interface MetricsReading {
  available: boolean
  note: string
  histograms: HistogramReading[]
  /** the near cache's counters, when the server exports them */
  cacheHits?: number
  cacheMisses?: number
}

function counter (text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)$`, 'm').exec(text)
  return m ? Number(m[1]) : undefined
}

const BUCKET = /^([a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\{(.*)\}\s+([0-9.eE+-]+|\+Inf)$/
const INTERESTING = /session|auth|valid/i

function quantile (buckets: [number, number][], q: number): number | null {
  const total = buckets[buckets.length - 1]?.[1] ?? 0
  if (total === 0) return null
  const hit = buckets.find(([, cumulative]) => cumulative >= q * total)
  return hit ? hit[0] : null
}

function parseHistograms (text: string): HistogramReading[] {
  const series = new Map<string, { name: string; buckets: [number, number][] }>()
  for (const line of text.split('\n')) {
    const m = BUCKET.exec(line.trim())
    if (!m || !INTERESTING.test(m[1]!)) continue
    const labels = m[2]!
    const le = /(?:^|,)le="([^"]+)"/.exec(labels)?.[1]
    if (le === undefined) continue
    const rest = labels.replace(/(?:^|,)le="[^"]+"/, '').replace(/^,/, '')
    const key = `${m[1]}{${rest}}`
    const entry = series.get(key) ?? { name: m[1]!, buckets: [] }
    entry.buckets.push([le === '+Inf' ? Infinity : Number(le), Number(m[3])])
    series.set(key, entry)
  }
  return [...series].map(([key, { name, buckets }]) => {
    buckets.sort((a, b) => a[0] - b[0])
    const toMs = /_seconds$/.test(name) ? 1000 : 1
    const q = (p: number): number | null => {
      const v = quantile(buckets, p)
      return v === null ? null : v * toMs
    }
    return { series: key, count: buckets[buckets.length - 1]?.[1] ?? 0, p50Ms: q(0.5), p99Ms: q(0.99) }
  })
}

export async function readValidationMetrics (baseUrl: string): Promise<MetricsReading> {
  const agent = keepAliveAgent(1)
  try {
    const reply = await send(agent, baseUrl + '/metrics')
    if (reply.status === 404) return { available: false, note: 'skipped: the server has no /metrics endpoint yet', histograms: [] }
    if (reply.status !== 200) return { available: false, note: `skipped: /metrics answered ${reply.status}`, histograms: [] }
    const histograms = parseHistograms(reply.body)
    const cacheHits = counter(reply.body, 'hallpass_session_cache_hits_total')
    const cacheMisses = counter(reply.body, 'hallpass_session_cache_misses_total')
    const p99 = histograms.find(h => h.series.startsWith('hallpass_session_validation_seconds'))?.p99Ms
    const cache = cacheHits === undefined || cacheMisses === undefined
      ? ''
      : `; near cache ${cacheHits.toLocaleString('en')} hits, ${cacheMisses.toLocaleString('en')} misses (${cacheHits + cacheMisses ? Math.round(100 * cacheHits / (cacheHits + cacheMisses)) : 0} % hits)`
    return {
      available: true,
      cacheHits,
      cacheMisses,
      note: (histograms.length ? `read from /metrics after the run: validation p99 ≤ ${p99 ?? '—'} ms (bucket upper bound)` : '/metrics has no session/auth/validation histogram') + cache,
      histograms
    }
  } finally {
    agent.destroy()
  }
}
