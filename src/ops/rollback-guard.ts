// AUTO_ROLLBACK: every few seconds, if the auth error rate over the last five minutes passes
// 1 % with at least 200 auth requests (a quiet minute cannot trip it), or the session
// validation p95 passes 10 ms, write the rollback override (new logins go legacy; nobody is
// logged out). Once: an override already standing is left alone. Audited, counted, warned.
import type { FastifyInstance } from 'fastify'
import { writeOverride } from '../auth/rollout-override.js'
import { rollbackTrips } from './metrics.js'
import type { ErrorWindow } from './window.js'
import type { LatencyWindow } from './latency-p95.js'

const GUARD_LIMITS = { errorRate: 0.01, minSample: 200, p95Ms: 10 } as const

type GuardVerdict = { trip: false } | { trip: true; trigger: 'error_rate' | 'latency_p95'; detail: string }

async function judge (errors: ErrorWindow, latency: LatencyWindow): Promise<GuardVerdict> {
  const { requests, errors: failed } = errors.totals()
  if (requests >= GUARD_LIMITS.minSample && failed / requests > GUARD_LIMITS.errorRate) {
    return { trip: true, trigger: 'error_rate', detail: `${failed} of ${requests} auth requests failed in 5 min` }
  }
  const p95 = await latency.p95Ms()
  if (p95 !== null && p95 > GUARD_LIMITS.p95Ms) {
    return { trip: true, trigger: 'latency_p95', detail: `session validation p95 ${p95.toFixed(2)} ms over 5 min` }
  }
  return { trip: false }
}

/** evaluates once; true when this call wrote the override */
export async function evaluateGuard (app: FastifyInstance, errors: ErrorWindow, latency: LatencyWindow): Promise<boolean> {
  const verdict = await judge(errors, latency)
  if (!verdict.trip) return false
  const written = await writeOverride(app.redis, app.config.redis.keyPrefix, {
    maxPercentage: 0,
    reason: `auto-rollback: ${verdict.detail}`,
    at: new Date().toISOString()
  })
  if (!written) return false
  rollbackTrips.inc({ trigger: verdict.trigger })
  app.log.warn({ trigger: verdict.trigger, detail: verdict.detail }, 'auto-rollback: new logins go legacy until the override is cleared (npm run rollout -- --clear)')
  app.audit.record({ type: 'AUTO_ROLLBACK', details: { trigger: verdict.trigger, detail: verdict.detail } })
  await app.rolloutOverride.refresh()
  return true
}
