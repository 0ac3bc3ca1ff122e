// autocannon runs, in the one shape every target gets: a warmup that is thrown away, a
// saturation run (-c 100) for throughput, then a run at a fixed offered rate of half that
// throughput for latency. Requests that vary (a cookie per request, a login body) are built
// once as raw buffers and sent round robin (see rotation), so the generator, which shares the
// two cores with the server, does no more per request than a constant request costs.
import autocannon from 'autocannon'
import { Samples, round, type Percentiles } from './stats.js'
import type { CpuPerRequest } from './cpu.js'

export interface RequestSpec {
  method?: 'GET' | 'POST' | 'DELETE'
  path: string
  /** header sets used one per request, round robin (each includes the constant headers) */
  headerSets: readonly Record<string, string>[]
  /** bodies used one per request, round robin */
  bodies?: readonly string[]
  /** false where non-2xx answers are the expected outcome */
  expect2xx?: boolean
}

export interface LoadShape {
  connections: number
  warmupS: number
  durationS: number
  /** connections of the fixed-rate run; few, because autocannon paces per second (see README) */
  rateConnections: number
  rateDurationS: number
  /** interleaved rounds of each comparison (see rounds.ts): how many, and each side's run in one */
  rounds: number
  roundS: number
  /** the warmup before each side's run in rounds after the first (the first uses warmupS) */
  roundWarmupS: number
}

export const FULL_SHAPE: LoadShape = { connections: 100, warmupS: 3, durationS: 8, rateConnections: 10, rateDurationS: 8, rounds: 3, roundS: 5, roundWarmupS: 1 }
export const QUICK_SHAPE: LoadShape = { connections: 100, warmupS: 1, durationS: 2, rateConnections: 10, rateDurationS: 2, rounds: 3, roundS: 1, roundWarmupS: 1 }

export interface RunStats {
  /** autocannon's Req/Sec average: responses per one-second sample */
  reqPerSec: number
  total: number
  errors: number
  timeouts: number
  non2xx: number
  statusCodes: Record<string, number>
  latencyMs: Percentiles
  durationS: number
  /** CPU time per request of the process under test and of Redis (rounds measure it) */
  cpu?: CpuPerRequest
}

export interface Measurement {
  /** unique in one run: `session-validate:cache-on`, `peer:fastify-jwt`, … */
  key: string
  label: string
  kind: 'ours' | 'peer'
  expect2xx: boolean
  saturation: RunStats
  /** latency at a fixed offered rate, half the saturation throughput (ours; peers skip it) */
  halfRate?: RunStats & { offered: number }
  /** the last log lines of the process under test, kept when a run saw errors or non-2xx */
  serverLog?: string[]
}

interface RunOptions {
  url: string
  spec: RequestSpec
  connections: number
  durationS?: number
  amount?: number
  overallRate?: number
  timeoutS?: number
}

/** the raw HTTP/1.1 requests, one per header set (and body), built once before the run */
function rawRequests (url: string, spec: RequestSpec): Buffer[] {
  const host = new URL(url).host
  const n = Math.max(spec.headerSets.length, spec.bodies?.length ?? 1)
  const out: Buffer[] = []
  for (let i = 0; i < n; i++) {
    const headers = spec.headerSets[i % spec.headerSets.length] ?? {}
    const body = spec.bodies?.[i % spec.bodies.length]
    const lines = [`${spec.method ?? 'GET'} ${spec.path} HTTP/1.1`, `Host: ${host}`, 'Connection: keep-alive']
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
    if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`)
    out.push(Buffer.from(lines.join('\r\n') + '\r\n\r\n' + (body ?? '')))
  }
  return out
}

/**
 * Requests that vary are handed to each connection as prebuilt buffers, round robin across
 * all connections. autocannon's own ways (setupRequest, or a requests array) rebuild a request
 * per send or clone and prebuild the whole array per connection; either one costs the server
 * CPU on this two-core machine. Each client's getRequestBuffer is replaced instead: one array
 * index per request, the cost of a constant request.
 */
/** where each spec's rotation stands: the next run of the same spec (a round after its warmup)
 * goes on from there, so a cold-cache run never re-sends the cookies its warmup just sent */
const positions = new WeakMap<RequestSpec, { next: number }>()

function rotation (url: string, spec: RequestSpec): Pick<autocannon.Options, 'method' | 'setupClient'> & { path: string } {
  const raw = rawRequests(url, spec)
  const position = positions.get(spec) ?? { next: 0 }
  positions.set(spec, position)
  return {
    method: spec.method ?? 'GET',
    path: spec.path,
    setupClient: client => {
      const c = client as unknown as { getRequestBuffer?: () => Buffer }
      if (typeof c.getRequestBuffer !== 'function') throw new Error('autocannon no longer has Client.getRequestBuffer: see rotation() in bench/lib/load.ts')
      c.getRequestBuffer = () => raw[position.next++ % raw.length]!
    }
  }
}

/** one autocannon run; every response time is recorded here at full precision */
export function runLoad (opts: RunOptions): Promise<RunStats> {
  const latencies = new Samples()
  return new Promise((resolve, reject) => {
    const { path, ...request } = rotation(opts.url, opts.spec)
    const instance = autocannon({
      url: opts.url + path,
      ...request,
      connections: opts.connections,
      ...(opts.amount ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
      // autocannon's coordinated-omission correction assumes evenly spaced sends, which its
      // per-second pacing does not do; the raw times are the honest figure here
      ...(opts.overallRate ? { overallRate: opts.overallRate, ignoreCoordinatedOmission: true } : {}),
      timeout: opts.timeoutS ?? 10
    }, (err, result) => {
      if (err) return reject(err)
      const codes: Record<string, number> = {}
      for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) codes[code] = s.count ?? 0
      resolve({
        reqPerSec: round(result.requests.average, 0),
        total: result.requests.total,
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        statusCodes: codes,
        latencyMs: latencies.percentiles(),
        durationS: result.duration
      })
    })
    instance.on('response', (_client, _status, _bytes, ms) => latencies.push(ms))
  })
}

const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** warmup, saturation, then half the saturation rate */
export async function measure (key: string, label: string, kind: Measurement['kind'], url: string, spec: RequestSpec, shape: LoadShape): Promise<Measurement> {
  await runLoad({ url, spec, connections: shape.connections, durationS: shape.warmupS })
  const saturation = await runLoad({ url, spec, connections: shape.connections, durationS: shape.durationS })
  await pause(300)
  const offered = Math.max(1, Math.round(saturation.reqPerSec / 2))
  const halfRate = await runLoad({ url, spec, connections: Math.min(shape.rateConnections, offered), durationS: shape.rateDurationS, overallRate: offered })
  await pause(300)
  return { key, label, kind, expect2xx: spec.expect2xx ?? true, saturation, halfRate: { ...halfRate, offered } }
}

/** what a smoke run must not see: errors, timeouts, and non-2xx where 2xx is expected */
export function problemsOf (m: Measurement): string[] {
  const out: string[] = []
  for (const [phase, s] of [['saturation', m.saturation], ['half rate', m.halfRate]] as const) {
    if (!s) continue
    if (s.errors > 0) out.push(`${m.label} (${phase}): ${s.errors} errors (${s.timeouts} timeouts)`)
    if (m.expect2xx && s.non2xx > 0) out.push(`${m.label} (${phase}): ${s.non2xx} non-2xx answers ${JSON.stringify(s.statusCodes)}`)
    if (s.total === 0) out.push(`${m.label} (${phase}): no request completed`)
  }
  if (out.length && m.serverLog?.length) out.push(`${m.label}: its log ends with: ${m.serverLog.join(' ⏎ ')}`)
  return out
}
