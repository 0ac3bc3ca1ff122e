// Admin surface: a user's sessions (list, bulk revoke), disable/enable an account, session
// statistics. Every change is audited with the acting admin. Registered inside the admin scope
// of the auth plugin, which adds requireAdmin and lockdown.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Errors } from '../../core/errors.js'
import { authOf } from '../guards.js'
import { findUserById, setUserDisabled } from '../users.js'
import { requestContext } from '../../core/request-context.js'
import { sessionView } from './sessions.js'
import { revokeEverything, revokedCount } from '../revoke-user.js'
import { RevokedCountSchema, SessionListSchema, UserSchema } from '../schemas.js'
import { UuidParamsSchema, errorReplies } from '../../core/schemas.js'

const StatsSchema = Type.Object({
  activeSessions: Type.Integer(),
  byDeviceType: Type.Record(Type.String(), Type.Integer()),
  source: Type.String({ description: 'user_sessions mirror: revoked_at null, not expired, seen within the idle timeout' })
})

const DisableReplySchema = Type.Object({ user: Type.Intersect([UserSchema, Type.Object({ disabled: Type.Boolean() })]), revoked: Type.Integer() })

export const adminRoutes: FastifyPluginAsyncTypebox = async app => {
  const audit = (request: FastifyRequest, type: Parameters<typeof app.audit.record>[0]['type'], targetUserId: string, details: Record<string, unknown> = {}): void => {
    const admin = authOf(request)
    app.audit.record({ type, userId: targetUserId, ...requestContext(request), details: { adminId: admin.userId, ...details } })
  }

  app.get('/api/admin/users/:id/sessions', {
    schema: { tags: ['admin'], params: UuidParamsSchema, response: { 200: SessionListSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const user = await findUserById(app.db.sql, request.params.id)
    if (!user) throw new Errors.NOT_FOUND('User')
    const sessions = await app.sessions.list(user.id)
    return { sessions: sessions.map(s => sessionView(s, null)) }
  })

  app.delete('/api/admin/users/:id/sessions', {
    schema: { tags: ['admin'], params: UuidParamsSchema, response: { 200: RevokedCountSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const user = await findUserById(app.db.sql, request.params.id)
    if (!user) throw new Errors.NOT_FOUND('User')
    const revoked = await revokeEverything(app, user.id, 'admin_revoked')
    audit(request, 'ADMIN_SESSIONS_REVOKED', user.id, { revoked: revokedCount(revoked), sessions: revoked.sessions.length, families: revoked.families, accessTokens: revoked.accessTokens })
    return { revoked: revokedCount(revoked) }
  })

  for (const action of ['disable', 'enable'] as const) {
    app.post(`/api/admin/users/:id/${action}`, {
      schema: { tags: ['admin'], params: UuidParamsSchema, response: { 200: DisableReplySchema, ...errorReplies(400, 401, 403, 404) } }
    }, async request => {
      const disabled = action === 'disable'
      const user = await setUserDisabled(app.db.sql, request.params.id, disabled)
      if (!user) throw new Errors.NOT_FOUND('User')
      // disabling ends every session at once; logins are refused by the login route
      const revoked = disabled ? revokedCount(await revokeEverything(app, user.id, 'user_disabled')) : 0
      audit(request, disabled ? 'ADMIN_USER_DISABLED' : 'ADMIN_USER_ENABLED', user.id, { revoked })
      return { user: { id: user.id, email: user.email, role: user.role, disabled }, revoked }
    })
  }

  app.get('/api/admin/stats', {
    schema: { tags: ['admin'], response: { 200: StatsSchema, ...errorReplies(401, 403) } }
  }, async () => {
    const rows = await app.db.sql<{ type: string; n: number }[]>`
      select coalesce(device->>'type', 'unknown') as type, count(*)::int as n
      from user_sessions
      where revoked_at is null and expires_at > now()
        and last_seen_at > now() - make_interval(secs => ${app.config.session.idleTimeoutMs / 1000})
      group by 1 order by 1`
    const byDeviceType = Object.fromEntries(rows.map(r => [r.type, r.n]))
    return { activeSessions: rows.reduce((n, r) => n + r.n, 0), byDeviceType, source: 'user_sessions mirror' }
  })
}
