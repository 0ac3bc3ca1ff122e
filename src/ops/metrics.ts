// Every metric of the house, created once at module scope in prom-client's default registry
// (tests build several apps in one process; a second registration would throw). Names follow
// Prometheus conventions: base units, `_total` counters, histograms with exact boundaries at
// the SLO thresholds so a fraction under 1, 5, 10 ms … needs no interpolation. Labels are
// bounded: route patterns, error codes from the catalogue, modes and outcomes — never a raw
// URL or a user id. Metrics that belong to one part live with it (the session validation
// histogram with the sessions code, sockets and revocation propagation with the price feed,
// the audit queue with the audit writer); /metrics serves them all from the same registry.
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
export const postgresUp = new Gauge({ name: 'hallpass_postgres_up', help: '1 when select 1 answered within 1 s on the probe connection (outside the pool)' })
// postgres.js has no pool counters: the db layer counts the queries, transactions and reserved
// connections it has started and not finished (src/infra/db-guard.ts)
export const postgresPoolInUse = new Gauge({ name: 'hallpass_postgres_pool_connections_in_use', help: 'Pool connections busy with a query, a transaction or a reservation (counted by the db layer)' })
export const postgresPoolWaiting = new Gauge({ name: 'hallpass_postgres_pool_waiting', help: 'Queries and transactions started beyond the pool size, waiting for a connection' })
export const postgresPoolMax = new Gauge({ name: 'hallpass_postgres_pool_connections_max', help: 'Pool size (PG_POOL_MAX)' })
export const postgresBreakerOpen = new Gauge({ name: 'hallpass_postgres_circuit_open', help: '1 while the Postgres circuit breaker answers 503 without trying (open or probing)' })

export const retentionRowsDeleted = new Counter({
  name: 'hallpass_retention_rows_deleted_total',
  help: 'Rows the retention jobs deleted, by table (refresh_tokens, jwt_deny_list, user_sessions, audit_logs)',
  labelNames: ['table']
})
export const retentionRuns = new Counter({
  name: 'hallpass_retention_runs_total',
  help: 'Retention runs by outcome: ran (this instance held the lock), skipped (another did), failed',
  labelNames: ['outcome']
})
