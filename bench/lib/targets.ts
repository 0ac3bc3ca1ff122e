// The targets of issue 15's table (and the feed's and the login storm's), judged on this run's
// figures only. A ratio is the median of per-round ratios of req/s at saturation, both sides
// measured in the same interleaved rounds (lib/rounds.ts), reported with its min–max and the
// number of rounds; never a figure of one run over a figure of another.
import type { ScenarioResult } from './context.js'
import type { Measurement } from './load.js'
import type { ValidationReading } from './metrics.js'
import { roundsRatio, type SideRounds } from './rounds.js'
import { round } from './stats.js'

type Verdict = 'met' | 'missed' | 'not measured'

export interface TargetRow {
  target: string
  goal: string
  measured: string
  /** min–max of the per-round ratios, for a ratio */
  spread: string
  rounds: string
  verdict: Verdict
}

function detail<T> (results: ScenarioResult[], scenario: string, pick: (d: Record<string, unknown>) => T | undefined): T | undefined {
  const d = results.find(r => r.scenario === scenario && r.status === 'ok')?.details
  return d ? pick(d) : undefined
}

const NOT_MEASURED = { measured: '—', spread: '—', rounds: '—', verdict: 'not measured' as const }

export function evaluateTargets (measurements: Map<string, Measurement>, rounds: Map<string, SideRounds>, results: ScenarioResult[]): TargetRow[] {
  const rows: TargetRow[] = []
  const ratioAtLeast = (target: string, ours: string, other: string, goal: number): void => {
    const r = roundsRatio(rounds, ours, other)
    rows.push(r === null
      ? { target, goal: `≥ ${goal}×`, ...NOT_MEASURED }
      : { target, goal: `≥ ${goal}×`, measured: `${round(r.median)}×`, spread: `${round(r.min)}–${round(r.max)}×`, rounds: String(r.rounds), verdict: r.median >= goal ? 'met' : 'missed' })
  }
  const atMost = (target: string, value: number | null | undefined, goal: number, strict: boolean, unit = ' ms'): void => {
    const sign = strict ? '<' : '≤'
    rows.push(value == null || Number.isNaN(value)
      ? { target, goal: `${sign} ${goal}${unit}`, ...NOT_MEASURED }
      : { target, goal: `${sign} ${goal}${unit}`, measured: Number.isFinite(value) ? `${round(value)}${unit}` : 'above the largest bucket', spread: '—', rounds: '—', verdict: (strict ? value < goal : value <= goal) ? 'met' : 'missed' })
  }

  ratioAtLeast('session-validate, cache off ÷ one-GET floor', 'session-validate:cache-off', 'peer:redis-get', 0.95)
  ratioAtLeast('session-validate, cache off ÷ @fastify/session + connect-redis', 'session-validate:cache-off', 'peer:fastify-session', 2)
  ratioAtLeast('session-validate, cache off ÷ @fastify/jwt (stateless, not revocable)', 'session-validate:cache-off', 'peer:fastify-jwt', 1.2)
  ratioAtLeast('session-validate, cache on, 1,000 active sessions ÷ ceiling', 'session-validate:cache-on-1k', 'ceiling', 0.8)
  // the same 100,000 cookies on both sides: the touches and mirror writes that many users cause
  // are the same with or without the cache, so the ratio is the cache's own miss-path cost
  ratioAtLeast('session-validate, cache on, cold (100,000 sessions) ÷ cache off, same sessions', 'session-validate:cache-on-cold', 'session-validate:cache-off-cold', 0.95)
  ratioAtLeast('legacy Bearer ÷ @fastify/jwt + Redis deny list', 'legacy-validate', 'peer:fastify-jwt-denylist', 1.0)
  ratioAtLeast('rls-read ÷ its fair pair (same server, owner SELECT)', 'rls-read', 'peer:rls-owner', 0.9)
  for (const key of ['session-validate:cache-on-1k', 'session-validate:cache-on-cold', 'session-validate:cache-off', 'legacy-validate', 'mixed']) {
    const m = measurements.get(key)
    atMost(`p99 at half saturation: ${m?.label.replace(/^ours: /, '') ?? key}`, m?.halfRate?.latencyMs.p99, 5, false)
  }
  const validation = detail(results, 'session-validate', d => d.validation as Record<string, ValidationReading> | undefined) ?? {}
  for (const key of ['session-validate:cache-off', 'session-validate:cache-on-1k', 'session-validate:cache-on-cold']) {
    atMost(`validation step p99 (server histogram, bucket bound), ${key.replace('session-validate:', '')}`, validation[key]?.p99Ms, 1, true)
  }
  atMost('revoke-to-rejection p99 across instances, cache on', detail(results, 'revocations', d => (d.crossInstanceMs as { p99: number } | undefined)?.p99), 50, true)
  const accepted = detail(results, 'revocations', d => d.acceptedAfterRevoke as { same: number; cross: number } | undefined)
  rows.push(accepted === undefined
    ? { target: 'accepted after revoke (same + across instances), cache on', goal: '0', ...NOT_MEASURED }
    : { target: 'accepted after revoke (same + across instances), cache on', goal: '0', measured: `${accepted.same} + ${accepted.cross}`, spread: '—', rounds: '—', verdict: accepted.same + accepted.cross === 0 ? 'met' : 'missed' })
  atMost('ws-fanout: tick p99 publish → receipt at 1,000 sockets', detail(results, 'ws-fanout', d => (d.tickMs as Record<string, { p99: number }> | undefined)?.['1000']?.p99), 50, true)
  atMost('ws-fanout: revoke-to-close p99 across instances', detail(results, 'ws-fanout', d => (d.revokeToCloseMs as { p99: number } | undefined)?.p99), 100, true)
  atMost('login-storm: /api/health p99 during the storm', detail(results, 'login-storm', d => (d.healthDuringMs as { p99: number } | undefined)?.p99), 50, true)
  return rows
}
