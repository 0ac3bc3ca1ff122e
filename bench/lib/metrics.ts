// The server's own view of the validation step, read from GET /metrics before and after a run:
// the hallpass_session_validation_seconds histogram and the near cache's hit and miss counters.
// The difference of the two readings is that run alone, even when the process served others.
// A quantile is the upper bound of the bucket that holds it (the buckets have exact edges at
// 0.5, 1, 5 and 10 ms, so "p99 < 1 ms" is read without interpolation).
import { keepAliveAgent, send } from './http.js'

const HISTOGRAM = 'hallpass_session_validation_seconds'

export interface ValidationSnapshot {
  /** cumulative [upper bound in s, count] */
  buckets: [number, number][]
  hits: number
  misses: number
}

export interface ValidationReading {
  count: number
  /** bucket upper bounds, ms */
  p50Ms: number | null
  p99Ms: number | null
  cacheHits: number
  cacheMisses: number
}

function counter (text: string, name: string): number {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)$`, 'm').exec(text)
  return m ? Number(m[1]) : 0
}

/** null when the server serves no /metrics or no validation histogram */
export async function validationSnapshot (baseUrl: string): Promise<ValidationSnapshot | null> {
  const agent = keepAliveAgent(1)
  try {
    const reply = await send(agent, baseUrl + '/metrics')
    if (reply.status !== 200) return null
    const buckets: [number, number][] = []
    const line = new RegExp(`^${HISTOGRAM}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\}\\s+([0-9.eE+-]+)$`, 'gm')
    for (const m of reply.body.matchAll(line)) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])])
    if (!buckets.length) return null
    buckets.sort((a, b) => a[0] - b[0])
    return { buckets, hits: counter(reply.body, 'hallpass_session_cache_hits_total'), misses: counter(reply.body, 'hallpass_session_cache_misses_total') }
  } finally {
    agent.destroy()
  }
}

export function validationBetween (before: ValidationSnapshot, after: ValidationSnapshot): ValidationReading {
  const delta = after.buckets.map(([le, n], i) => [le, n - (before.buckets[i]?.[1] ?? 0)] as [number, number])
  const total = delta[delta.length - 1]?.[1] ?? 0
  const quantile = (q: number): number | null => {
    if (total === 0) return null
    const hit = delta.find(([, cumulative]) => cumulative >= q * total)
    return hit ? hit[0] * 1000 : null
  }
  return { count: total, p50Ms: quantile(0.5), p99Ms: quantile(0.99), cacheHits: after.hits - before.hits, cacheMisses: after.misses - before.misses }
}

export function describeValidation (r: ValidationReading): string {
  const looked = r.cacheHits + r.cacheMisses
  const cache = looked ? `; near cache ${Math.round(100 * r.cacheHits / looked)} % hits (${r.cacheHits.toLocaleString('en')} of ${looked.toLocaleString('en')})` : ''
  return `validation step at half saturation: p50 ≤ ${r.p50Ms ?? '—'} ms, p99 ≤ ${r.p99Ms ?? '—'} ms (bucket upper bounds, ${r.count.toLocaleString('en')} validations)${cache}`
}
