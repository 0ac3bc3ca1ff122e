// Liveness, readiness, and one probe per auth path so ops can see which path a rollout
// flag has switched off and whether its dependencies answer. Readiness describes this pod:
// it stays 200 (status "degraded", naming what is down) while the pod can still serve its
// core — sessions are Redis-first with Postgres as their fallback — so an outage of one
// shared dependency does not take every pod out of the Service at once.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config/config.js'
import { checkPostgres, createEventLoopCheck, createRedisCheck, type CheckResult } from './dependency-checks.js'

const CheckSchema = Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()) })
const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), CheckSchema)),
  reason: Type.Optional(Type.String())
})
const replies = { response: { 200: HealthReply, 503: HealthReply } }

/** a loop that stalled longer than this between two probes cannot answer in time */
const EVENT_LOOP_STALL_MS = 2000

function failures (checks: Record<string, CheckResult>): string[] {
  return Object.values(checks).flatMap(c => c.ok ? [] : [c.reason])
}

/** why an auth path is switched off by the flags, or null when it is on */
function authPathDisabledReason (rollout: Config['rollout'], path: 'legacy' | 'v2'): string | null {
  if (rollout.securityLockdown) return 'SECURITY_LOCKDOWN is on: logins and refreshes are refused'
  if (path === 'legacy' && !rollout.legacyAuthEnabled) return 'LEGACY_AUTH_ENABLED is false: legacy tokens are retired; clients sign in again and get sessions'
  if (path === 'v2') {
    if (!rollout.newAuthEnabled) return 'NEW_AUTH_ENABLED is false: no new sessions are issued'
    if (rollout.rollbackMode) return 'ROLLBACK_MODE is on: no new sessions are issued'
    if (rollout.newAuthPercentage === 0 && rollout.legacyAuthEnabled) return 'NEW_AUTH_PERCENTAGE is 0: sessions are issued to nobody (every login gets legacy tokens)'
  }
  return null
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.get('/api/health', { schema: { tags: ['ops'], ...replies } }, async () => ({ status: 'ok' as const }))

  const checkRedis = createRedisCheck(app)
  const eventLoop = createEventLoopCheck(EVENT_LOOP_STALL_MS)
  app.addHook('onClose', async () => eventLoop.stop())

  const respond = (checks: Record<string, CheckResult>, disabled: string | null = null) => {
    const failed = failures(checks)
    const reason = disabled ?? (failed.length ? `not answering: ${failed.join('; ')}` : undefined)
    return {
      code: (reason ? 503 : 200) as 200 | 503,
      body: { status: reason ? 'unavailable' as const : 'ok' as const, checks, ...(reason ? { reason } : {}) }
    }
  }

  // 200 while the event loop runs and Redis or its fallback (Postgres) answers; "degraded"
  // names the one that does not
  app.get('/api/health/ready', { schema: { tags: ['ops'], ...replies } }, async (_req, reply) => {
    const loop = eventLoop.check()
    const [redis, postgres] = await Promise.all([checkRedis(), checkPostgres(app)])
    const checks = { redis, postgres, eventLoop: loop }
    const down = failures(checks)
    if (!loop.ok || (!redis.ok && !postgres.ok)) {
      return reply.code(503).send({ status: 'unavailable', checks, reason: `cannot serve: ${down.join('; ')}` })
    }
    if (down.length > 0) return reply.code(200).send({ status: 'degraded', checks, reason: `degraded: ${down.join('; ')}` })
    return reply.code(200).send({ status: 'ok', checks })
  })

  // legacy JWTs need Redis (deny list) and Postgres (refresh tokens)
  app.get('/api/health/auth-legacy', { schema: { tags: ['ops'], ...replies } }, async (_req, reply) => {
    const [redis, postgres] = await Promise.all([checkRedis(), checkPostgres(app)])
    const { code, body } = respond({ redis, postgres }, authPathDisabledReason(config.rollout, 'legacy'))
    return reply.code(code).send(body)
  })

  // sessions live in Redis; Postgres only mirrors them off the hot path
  app.get('/api/health/auth-v2', { schema: { tags: ['ops'], ...replies } }, async (_req, reply) => {
    const redis = await checkRedis()
    const { code, body } = respond({ redis }, authPathDisabledReason(config.rollout, 'v2'))
    return reply.code(code).send(body)
  })
}
