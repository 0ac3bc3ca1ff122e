// Operations: metrics fed by hooks (route patterns, house error codes) and audit events, so
// route code carries no metric calls; /metrics and the runbook's two numbers; the auto-rollback
// guard. In production the public listener has none of these routes: they live on the separate
// METRICS_PORT listener only (metrics-listener.ts).
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config/config.js'
import { effectivePercentage } from '../auth/rollout.js'
import {
  auditEvents, authErrors, authRequests, effectivePercentageGauge, httpDuration, logins, overrideInForce,
  postgresBreakerOpen, postgresPoolInUse, postgresPoolMax, postgresPoolWaiting, postgresUp, redisMaxMemory, redisUp,
  redisUsedMemory, refreshes, refusals, register, registrations, wsUpgradeRefusals, wsUpgrades
} from './metrics.js'
import { createErrorWindow, type ErrorWindow } from './window.js'
import { createLatencyWindow } from './latency-p95.js'
import { evaluateGuard } from './rollback-guard.js'
import { formatNumber, startMetricsListener } from './metrics-listener.js'

const GUARD_EVERY_MS = 5000
const SNAPSHOT_EVERY_MS = 5000

const REFUSAL_KIND: Record<string, string> = {
  AUTH_TOO_MANY_ATTEMPTS: 'backoff',
  RATE_LIMITED: 'rate_limit',
  CSRF_ORIGIN_REJECTED: 'csrf'
}
const REFRESH_OUTCOME: Record<string, string> = {
  AUTH_REFRESH_INVALID: 'invalid',
  AUTH_REFRESH_RACE: 'race',
  AUTH_REFRESH_REUSED: 'reused',
  RATE_LIMITED: 'rate_limited'
}
const LOGIN_OUTCOME: Record<string, string> = {
  AUTH_INVALID_CREDENTIALS: 'invalid_credentials',
  AUTH_TOO_MANY_ATTEMPTS: 'backoff',
  RATE_LIMITED: 'rate_limited'
}

export interface OpsRunbook {
  /** percent of auth requests answered with a server error over the last 5 min (0 with no traffic) */
  authErrorRatePercent: () => number
  /** session validation p95 in ms over the last 5 min, null when there is no sample */
  sessionLatencyP95Ms: () => Promise<number | null>
  /** the whole exposition, gauges read now */
  metricsText: () => Promise<string>
  /** runs the guard once (tests; the timer runs it every 5 s when AUTO_ROLLBACK is on) */
  evaluateGuard: () => Promise<boolean>
}

declare module 'fastify' {
  interface FastifyInstance {
    ops: OpsRunbook
  }
}

function outcomeOf (status: number, code: string | undefined, table: Record<string, string>): string {
  if (status >= 500) return 'error'
  if (code !== undefined && table[code]) return table[code]
  return 'refused'
}

function carriesCredentials (request: FastifyRequest, config: Config): boolean {
  const auth = request.headers.authorization
  return request.cookies?.[config.session.cookieName] !== undefined || (typeof auth === 'string' && /^bearer /i.test(auth))
}

function setsSessionCookie (reply: FastifyReply, cookieName: string): boolean {
  const header = reply.getHeader('set-cookie')
  const cookies = Array.isArray(header) ? header : [String(header ?? '')]
  return cookies.some(c => c.startsWith(`${cookieName}=`) && !/max-age=0|expires=thu, 01 jan 1970/i.test(c))
}

interface DurationChild { observe: (seconds: number) => void }

/**
 * The request-duration histogram's child for one route, method and status class, made once and
 * kept: no label object or template string per request. As bounded as the metric's own series
 * (route patterns, the methods Node's parser accepts, six classes).
 */
function durationSeries (): (route: string, method: string, status: number) => DurationChild {
  const byRoute = new Map<string, Map<string, DurationChild[]>>()
  return (route, method, status) => {
    let byMethod = byRoute.get(route)
    if (!byMethod) byRoute.set(route, byMethod = new Map())
    let byClass = byMethod.get(method)
    if (!byClass) byMethod.set(method, byClass = [])
    const statusClass = Math.floor(status / 100)
    let child = byClass[statusClass]
    if (!child) byClass[statusClass] = child = httpDuration.labels({ route, method, status_class: `${statusClass}xx` })
    return child
  }
}

function observeResponse (config: Config, request: FastifyRequest, reply: FastifyReply, code: string | undefined, window: ErrorWindow,
  duration: ReturnType<typeof durationSeries>): void {
  const route = request.routeOptions.url ?? 'unmatched'
  const status = reply.statusCode
  duration(route, request.method, status).observe(reply.elapsedTime / 1000)

  if (route.startsWith('/api/auth/') || carriesCredentials(request, config)) {
    // an auth error is the server's failure, never the client's: 401/403/429 are answers
    const isError = status >= 500 && code !== 'SECURITY_LOCKDOWN'
    authRequests.inc()
    if (isError) authErrors.inc()
    window.record(isError)
  }
  if (code !== undefined && REFUSAL_KIND[code]) refusals.inc({ kind: REFUSAL_KIND[code], route })
  if (request.method !== 'POST') {
    // only upgrade requests: a plain GET of the route is no socket attempt (attempts count the same way)
    if (route === '/ws/prices' && request.ws && status >= 400) wsUpgradeRefusals.inc({ code: code ?? String(status) })
    return
  }
  if (route === '/api/auth/login') {
    if (status === 200) logins.inc({ mode: setsSessionCookie(reply, config.session.cookieName) ? 'session' : 'legacy', outcome: 'success' })
    else logins.inc({ mode: 'none', outcome: outcomeOf(status, code, LOGIN_OUTCOME) })
  } else if (route === '/api/auth/register') {
    registrations.inc({ outcome: status < 300 ? 'success' : status >= 500 ? 'error' : code === 'AUTH_EMAIL_TAKEN' ? 'email_taken' : 'refused' })
  } else if (route === '/api/auth/refresh') {
    if (status === 200) refreshes.inc({ outcome: setsSessionCookie(reply, config.session.cookieName) ? 'upgraded' : 'rotated' })
    else refreshes.inc({ outcome: outcomeOf(status, code, REFRESH_OUTCOME) })
  }
}

async function readGauges (app: FastifyInstance): Promise<void> {
  const up = app.redis.status === 'ready'
  redisUp.set(up ? 1 : 0)
  if (up) {
    try {
      const info = await app.redis.info('memory')
      const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0)
      redisUsedMemory.set(field('used_memory'))
      redisMaxMemory.set(field('maxmemory'))
    } catch { redisUp.set(0) }
  }
  try {
    await app.db.ping(1000)
    postgresUp.set(1)
  } catch { postgresUp.set(0) }
  const pool = app.db.poolStats()
  postgresPoolInUse.set(pool.inUse)
  postgresPoolWaiting.set(pool.waiting)
  postgresPoolMax.set(pool.max)
  postgresBreakerOpen.set(pool.breakerOpen ? 1 : 0)
  const cap = app.rolloutOverride.current?.maxPercentage ?? null
  overrideInForce.set(cap === null ? 0 : 1)
  effectivePercentageGauge.set(effectivePercentage(app.config.rollout, cap))
}

export const opsPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const errors = createErrorWindow()
  const latency = createLatencyWindow()
  const codes = new WeakMap<FastifyRequest, string>()
  const duration = durationSeries()

  // callback style, not async: these run on every request, and an async hook costs a promise
  // and a microtask turn each time
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.ws && request.routeOptions.url === '/ws/prices') wsUpgrades.inc()
    done()
  })
  app.addHook('onError', (request, _reply, error, done) => {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') codes.set(request, code)
    done()
  })
  app.addHook('onResponse', (request, reply, done) => {
    observeResponse(config, request, reply, codes.get(request), errors, duration)
    done()
  })
  app.audit.observe(event => auditEvents.inc({ type: event.type }))

  const ops: OpsRunbook = {
    authErrorRatePercent () {
      const { requests, errors: failed } = errors.totals()
      return requests === 0 ? 0 : (failed / requests) * 100
    },
    sessionLatencyP95Ms: latency.p95Ms,
    async metricsText () {
      await readGauges(app)
      return register.metrics()
    },
    evaluateGuard: () => evaluateGuard(app, errors, latency)
  }
  app.decorate('ops', ops)
  app.decorate('metricsPort', null as number | null)

  // the public listener: only outside production (operators scrape METRICS_PORT there)
  if (!config.isProduction) {
    await app.register(runbookRoutes)
  }

  const timers: NodeJS.Timeout[] = []
  const every = (ms: number, fn: () => Promise<unknown>): void => {
    const timer = setInterval(() => { fn().catch(err => app.log.warn({ err: (err as Error).message }, 'ops: periodic task failed')) }, ms)
    timer.unref()
    timers.push(timer)
  }
  let stopListener: (() => Promise<void>) | null = null
  app.addHook('onReady', async () => {
    await latency.snapshot()
    every(SNAPSHOT_EVERY_MS, latency.snapshot)
    if (config.ops.autoRollback) every(GUARD_EVERY_MS, ops.evaluateGuard)
    if (config.ops.metricsPort !== null) stopListener = await startMetricsListener(app, config.ops.metricsPort, config.ops.metricsHost)
  })
  app.addHook('onClose', async () => {
    for (const t of timers) clearInterval(t)
    if (stopListener) await stopListener()
  })
}, { name: 'ops', dependencies: ['redis', 'db', 'audit', 'auth'] })

async function runbookRoutes (app: FastifyInstance): Promise<void> {
  const hide = { hide: true } // not part of the public API
  app.get('/metrics', { schema: hide }, async (_request, reply) => {
    reply.type(register.contentType)
    return app.ops.metricsText()
  })
  app.get('/metrics/auth-error-rate', { schema: hide }, async (_request, reply) => {
    reply.type('text/plain; charset=utf-8')
    return formatNumber(app.ops.authErrorRatePercent())
  })
  app.get('/metrics/session-latency-p95', { schema: hide }, async (_request, reply) => {
    reply.type('text/plain; charset=utf-8')
    return formatNumber(await app.ops.sessionLatencyP95Ms())
  })
}
