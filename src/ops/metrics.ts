// Every metric of the house, created once at module scope in prom-client's default registry
// (tests build several apps in one process; a second registration would throw). Names follow
// Prometheus conventions: base units, `_total` counters, histograms with exact boundaries at
// the SLO thresholds so a fraction under 1, 5, 10 ms … needs no interpolation. Labels are
// bounded: route patterns, error codes from the catalogue, modes and outcomes — never a raw
// URL or a user id. The session validation histogram lives with the sessions code; /metrics
// serves it from the same registry.
import { Counter, Gauge, Histogram, collectDefaultMetrics, register } from 'prom-client'

export { register }

collectDefaultMetrics()

// seconds: 1, 2.5, 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export const httpDuration = new Histogram({
  name: 'hallpass_http_request_duration_seconds',
  help: 'HTTP request latency by route pattern, method and status class',
  labelNames: ['route', 'method', 'status_class'],
  buckets: LATENCY_BUCKETS
})

export const authRequests = new Counter({
  name: 'hallpass_auth_requests_total',
  help: 'Requests that authenticate or are authentication (auth routes, or a cookie/Bearer came with them)'
})
export const authErrors = new Counter({
  name: 'hallpass_auth_errors_total',
  help: 'Auth requests the server failed (5xx other than SECURITY_LOCKDOWN); 401s for bad credentials are not errors'
})

export const logins = new Counter({
  name: 'hallpass_logins_total',
  help: 'Login attempts by mode (session, legacy, none) and outcome (success, invalid_credentials, backoff, rate_limited, refused, error)',
  labelNames: ['mode', 'outcome']
})
export const registrations = new Counter({
  name: 'hallpass_registrations_total',
  help: 'Registrations by outcome',
  labelNames: ['outcome']
})
export const refreshes = new Counter({
  name: 'hallpass_refreshes_total',
  help: 'Legacy refreshes by outcome (rotated, upgraded, invalid, race, reused, rate_limited, refused, error)',
  labelNames: ['outcome']
})
export const auditEvents = new Counter({
  name: 'hallpass_audit_events_total',
  help: 'Audit events by type: TOKEN_REUSE_ATTACK (reuse attacks), SESSION_ANOMALY, LOGIN_FAILURE, …',
  labelNames: ['type']
})
export const refusals = new Counter({
  name: 'hallpass_refusals_total',
  help: 'Requests refused by a protection: backoff (AUTH_TOO_MANY_ATTEMPTS), rate_limit (RATE_LIMITED), csrf (CSRF_ORIGIN_REJECTED)',
  labelNames: ['kind', 'route']
})
export const revocations = new Counter({
  name: 'hallpass_revocations_received_total',
  help: 'Revocation messages this instance received, by reason (each instance counts every message: use max across instances)',
  labelNames: ['reason']
})
export const revocationPropagation = new Histogram({
  name: 'hallpass_revocation_propagation_seconds',
  help: 'Revocation published → received by this instance (which closes the sockets in the same tick)',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
})

export const wsUpgradeRefusals = new Counter({
  name: 'hallpass_ws_upgrade_refusals_total',
  help: 'WebSocket upgrades of /ws/prices refused, by house error code',
  labelNames: ['code']
})
export const wsUpgrades = new Counter({
  name: 'hallpass_ws_upgrade_attempts_total',
  help: 'WebSocket upgrade attempts of /ws/prices'
})

export const rollbackTrips = new Counter({
  name: 'hallpass_auto_rollback_trips_total',
  help: 'Times the auto-rollback guard wrote the rollback override, by trigger (error_rate, latency_p95)',
  labelNames: ['trigger']
})
export const overrideInForce = new Gauge({
  name: 'hallpass_rollout_override_active',
  help: '1 while a rollback override caps new logins on this instance'
})
export const effectivePercentageGauge = new Gauge({
  name: 'hallpass_rollout_effective_percentage',
  help: 'Share of users who get sessions at login on this instance now'
})

export const redisUp = new Gauge({ name: 'hallpass_redis_up', help: '1 when the Redis client is ready' })
export const redisUsedMemory = new Gauge({ name: 'hallpass_redis_used_memory_bytes', help: 'Redis used_memory (INFO memory)' })
export const redisMaxMemory = new Gauge({ name: 'hallpass_redis_maxmemory_bytes', help: 'Redis maxmemory (0 = no limit)' })
export const postgresUp = new Gauge({ name: 'hallpass_postgres_up', help: '1 when a trivial query answered within 1 s' })
