// The targets of issue #7, judged on this run's figures only. A ratio is req/s at saturation
// over req/s at saturation, both measured minutes apart in the same run; never across runs.
import type { ScenarioResult } from './context.js'
import type { Measurement } from './load.js'
import { round } from './stats.js'

type Verdict = 'met' | 'missed' | 'not measured'

export interface TargetRow {
  target: string
  measured: string
  goal: string
  verdict: Verdict
}

export function ratio (measurements: Map<string, Measurement>, ours: string, other: string): number | null {
  const a = measurements.get(ours)?.saturation.reqPerSec
  const b = measurements.get(other)?.saturation.reqPerSec
  return a && b ? a / b : null
}

function detail<T> (results: ScenarioResult[], scenario: string, pick: (d: Record<string, unknown>) => T | undefined): T | undefined {
  const d = results.find(r => r.scenario === scenario && r.status === 'ok')?.details
  return d ? pick(d) : undefined
}

export function evaluateTargets (measurements: Map<string, Measurement>, results: ScenarioResult[]): TargetRow[] {
  const rows: TargetRow[] = []
  const atLeast = (target: string, value: number | null | undefined, goal: number, unit = '×'): void => {
    rows.push(value == null || Number.isNaN(value)
      ? { target, measured: '—', goal: `≥ ${goal}${unit}`, verdict: 'not measured' }
      : { target, measured: `${round(value)}${unit}`, goal: `≥ ${goal}${unit}`, verdict: value >= goal ? 'met' : 'missed' })
  }
  const atMost = (target: string, value: number | null | undefined, goal: number, strict: boolean): void => {
    const sign = strict ? '<' : '≤'
    rows.push(value == null || Number.isNaN(value)
      ? { target, measured: '—', goal: `${sign} ${goal} ms`, verdict: 'not measured' }
      : { target, measured: `${round(value)} ms`, goal: `${sign} ${goal} ms`, verdict: (strict ? value < goal : value <= goal) ? 'met' : 'missed' })
  }

  atLeast('session-validate (cache on, 1,000 active sessions) ÷ ceiling', ratio(measurements, 'session-validate:cache-on-1k', 'ceiling'), 0.8)
  atLeast('session-validate (cache on, 10,000 round robin) ÷ ceiling', ratio(measurements, 'session-validate:cache-on', 'ceiling'), 0.8)
  atLeast('session-validate (cache on) ÷ @fastify/jwt', ratio(measurements, 'session-validate:cache-on', 'peer:fastify-jwt'), 1.0)
  atLeast('session-validate (cache off) ÷ one-GET floor', ratio(measurements, 'session-validate:cache-off', 'peer:redis-get'), 0.95)
  atLeast('session-validate (cache off) ÷ @fastify/session + connect-redis', ratio(measurements, 'session-validate:cache-off', 'peer:fastify-session'), 2)
  atLeast('session-validate (cache off) ÷ @fastify/jwt (stateless)', ratio(measurements, 'session-validate:cache-off', 'peer:fastify-jwt'), 1.2)
  atLeast('legacy Bearer ÷ @fastify/jwt + Redis deny list', ratio(measurements, 'legacy-validate', 'peer:fastify-jwt-denylist'), 1.0)
  atMost('session-validate (cache on) p99 at half saturation', measurements.get('session-validate:cache-on')?.halfRate.latencyMs.p99, 5, false)
  atMost('session-validate (cache off) p99 at half saturation', measurements.get('session-validate:cache-off')?.halfRate.latencyMs.p99, 5, false)
  atLeast('rls-read ÷ its fair pair (same server, owner SELECT; median of interleaved rounds)', detail(results, 'rls-read', d => (d.rlsRatio as { median: number } | undefined)?.median), 0.9)
  atMost('revoke-to-rejection p99 across instances', detail(results, 'revocations', d => (d.crossInstanceMs as { p99: number } | undefined)?.p99), 50, true)
  atMost('ws-fanout: tick p99 publish → receipt at 1,000 sockets', detail(results, 'ws-fanout', d => (d.tickMs as Record<string, { p99: number }> | undefined)?.['1000']?.p99), 50, true)
  atMost('ws-fanout: revoke-to-close p99 across instances', detail(results, 'ws-fanout', d => (d.revokeToCloseMs as { p99: number } | undefined)?.p99), 100, true)
  atMost('login-storm: /api/health p99 during the storm', detail(results, 'login-storm', d => (d.healthDuringMs as { p99: number } | undefined)?.p99), 50, true)
  return rows
}
