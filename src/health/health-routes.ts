// Liveness, readiness, and one probe per auth path so ops can see which path a rollout
// flag has switched off and whether its dependencies answer.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config/config.js'
import { checkPostgres, checkRedis, type CheckResult } from './dependency-checks.js'

const CheckSchema = Type.Object({ ok: Type.Boolean(), reason: Type.Optional(Type.String()) })
const HealthReply = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  checks: Type.Optional(Type.Record(Type.String(), CheckSchema)),
  reason: Type.Optional(Type.String())
})
const replies = { response: { 200: HealthReply, 503: HealthReply } }

/** why an auth path is switched off by the flags, or null when it is on */
function authPathDisabledReason (rollout: Config['rollout'], path: 'legacy' | 'v2'): string | null {
  if (rollout.securityLockdown) return 'SECURITY_LOCKDOWN is on: logins and refreshes are refused'
  if (path === 'v2') {
    if (!rollout.newAuthEnabled) return 'NEW_AUTH_ENABLED is false: no new sessions are issued'
    if (rollout.rollbackMode) return 'ROLLBACK_MODE is on: no new sessions are issued'
  }
  return null
}

export const healthRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.get('/api/health', { schema: { tags: ['ops'], ...replies } }, async () => ({ status: 'ok' as const }))

  const respond = (checks: Record<string, CheckResult>, disabled: string | null = null) => {
    const failed = Object.entries(checks).filter(([, c]) => !c.ok).map(([name]) => name)
    const reason = disabled ?? (failed.length ? `not answering: ${failed.join(', ')}` : undefined)
    return {
      code: (reason ? 503 : 200) as 200 | 503,
      body: { status: reason ? 'unavailable' as const : 'ok' as const, checks, ...(reason ? { reason } : {}) }
    }
  }

  app.get('/api/health/ready', { schema: { tags: ['ops'], ...replies } }, async (_req, reply) => {
    const [redis, postgres] = await Promise.all([checkRedis(app), checkPostgres(app)])
    const { code, body } = respond({ redis, postgres })
    return reply.code(code).send(body)
  })

  // legacy JWTs need Redis (deny list) and Postgres (refresh tokens)
  app.get('/api/health/auth-legacy', { schema: { tags: ['ops'], ...replies } }, async (_req, reply) => {
    const [redis, postgres] = await Promise.all([checkRedis(app), checkPostgres(app)])
    const { code, body } = respond({ redis, postgres }, authPathDisabledReason(config.rollout, 'legacy'))
    return reply.code(code).send(body)
  })

  // sessions live in Redis; Postgres only mirrors them off the hot path
  app.get('/api/health/auth-v2', { schema: { tags: ['ops'], ...replies } }, async (_req, reply) => {
    const redis = await checkRedis(app)
    const { code, body } = respond({ redis }, authPathDisabledReason(config.rollout, 'v2'))
    return reply.code(code).send(body)
  })
}
