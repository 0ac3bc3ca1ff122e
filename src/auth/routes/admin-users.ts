// Admin surface: a user's sessions (list, bulk revoke), disable/enable an account, change a
// role, session statistics. Every change and every read is audited with the acting admin.
// Registered inside the admin scope of the auth plugin, which adds requireAdmin and lockdown.
// The guard reads the role from the credential, which is safe because a role change bumps the
// credential version: no session or token minted under the old role survives it.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { Errors } from '../../core/errors.js'
import { authOf } from '../guards.js'
import { changeCredentials, findUserByEmail, findUserById } from '../users.js'
import { requestContext } from '../../core/request-context.js'
import { sessionView } from './sessions.js'
import { revokeEverything, revokedCount, unconfirmedDetail } from '../revoke-user.js'
import { endSessions } from '../end-sessions.js'
import { RevokedCountSchema, SessionListSchema, UserSchema } from '../schemas.js'
import { UuidParamsSchema, UuidSchema, errorReplies } from '../../core/schemas.js'

const StatsSchema = Type.Object({
  activeSessions: Type.Integer(),
  byDeviceType: Type.Record(Type.String(), Type.Integer()),
  source: Type.String({ description: 'user_sessions mirror: revoked_at null, not expired, seen within the idle timeout' })
})

const RoleBodySchema = Type.Object({ role: Type.Union([Type.Literal('user'), Type.Literal('admin')]) }, { additionalProperties: false })
const RoleReplySchema = Type.Object({ user: UserSchema, revoked: Type.Integer() })

// an exact email (compared case-insensitively, as at login); no pattern search, so the audit
// row says exactly which account an admin looked up
const FindUserQuerySchema = Type.Object({ email: Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' }) }, { additionalProperties: false })
const FoundUserSchema = Type.Object({ user: Type.Intersect([UserSchema, Type.Object({ disabled: Type.Boolean() })]) })

const DisableReplySchema = Type.Object({ user: Type.Intersect([UserSchema, Type.Object({ disabled: Type.Boolean() })]), revoked: Type.Integer() })

export const adminRoutes: FastifyPluginAsyncTypebox = async app => {
  const audit = (request: FastifyRequest, type: Parameters<typeof app.audit.record>[0]['type'], targetUserId: string | null, details: Record<string, unknown> = {}): void => {
    const admin = authOf(request)
    app.audit.record({ type, userId: targetUserId, ...requestContext(request), details: { adminId: admin.userId, ...details } })
  }

  app.get('/api/admin/users', {
    schema: { tags: ['admin'], summary: 'Find a user by email (exact, case-insensitive)', querystring: FindUserQuerySchema, response: { 200: FoundUserSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const user = await findUserByEmail(app.db.sql, request.query.email.trim())
    // a miss is audited too: who searched for which address is the point of the trail
    audit(request, 'ADMIN_READ', user?.id ?? null, { read: 'user_by_email', ...(user ? {} : { email: request.query.email.trim().toLowerCase() }) })
    if (!user) throw new Errors.NOT_FOUND('User')
    return { user: { id: user.id, email: user.email, role: user.role, disabled: user.disabledAt !== null } }
  })

  app.get('/api/admin/users/:id/sessions', {
    schema: { tags: ['admin'], params: UuidParamsSchema, response: { 200: SessionListSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const user = await findUserById(app.db.sql, request.params.id)
    if (!user) throw new Errors.NOT_FOUND('User')
    audit(request, 'ADMIN_READ', user.id, { read: 'sessions' })
    const sessions = await app.sessions.list(user.id)
    return { sessions: sessions.map(s => sessionView(s, null)) }
  })

  app.delete('/api/admin/users/:id/sessions', {
    schema: { tags: ['admin'], params: UuidParamsSchema, response: { 200: RevokedCountSchema, ...errorReplies(400, 401, 403, 404, 503) } }
  }, async request => {
    const revoked = await revokeEverything(app, request.params.id, 'admin_revoked')
    if (!revoked) throw new Errors.NOT_FOUND('User')
    const user = revoked.user
    audit(request, 'ADMIN_SESSIONS_REVOKED', user.id, { revoked: revokedCount(revoked), sessions: revoked.sessions.length, families: revoked.families, accessTokens: revoked.accessTokens, ...unconfirmedDetail(revoked) })
    if (revoked.unconfirmed) throw revoked.unconfirmed
    return { revoked: revokedCount(revoked) }
  })

  app.delete('/api/admin/users/:id/sessions/:sessionId', {
    schema: {
      tags: ['admin'],
      summary: 'End one session of a user',
      params: Type.Object({ id: UuidSchema(), sessionId: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'a public session id' }) }),
      response: { 204: { type: 'null' }, ...errorReplies(400, 401, 403, 404, 503) }
    }
  }, async (request, reply) => {
    const { id, sessionId } = request.params
    // keyed by user and session: another user's session id is a 404 like an unknown one
    const ended = await endSessions(app, id, { only: sessionId }, 'admin_revoked', () =>
      audit(request, 'ADMIN_SESSIONS_REVOKED', id, { revoked: 1, scope: 'one', session: sessionId }))
    if (!ended.found) throw new Errors.NOT_FOUND('Session')
    return reply.code(204).send()
  })

  for (const action of ['disable', 'enable'] as const) {
    app.post(`/api/admin/users/:id/${action}`, {
      schema: { tags: ['admin'], params: UuidParamsSchema, response: { 200: DisableReplySchema, ...errorReplies(400, 401, 403, 404, 503) } }
    }, async request => {
      const disabled = action === 'disable'
      // disabling bumps the credential version and ends everything at once; logins already
      // past their disabled check are refused at issue. Enabling changes no credential.
      const done = disabled
        ? await revokeEverything(app, request.params.id, 'user_disabled', { change: { kind: 'disabled', disabled } })
        : null
      const user = done ? done.user : await changeCredentials(app.db.sql, request.params.id, { kind: 'disabled', disabled })
      if (!user) throw new Errors.NOT_FOUND('User')
      const revoked = done ? revokedCount(done) : 0
      audit(request, disabled ? 'ADMIN_USER_DISABLED' : 'ADMIN_USER_ENABLED', user.id, { revoked, ...(done ? unconfirmedDetail(done) : {}) })
      if (done?.unconfirmed) throw done.unconfirmed
      return { user: { id: user.id, email: user.email, role: user.role, disabled }, revoked }
    })
  }

  app.post('/api/admin/users/:id/role', {
    schema: { tags: ['admin'], summary: 'Change a user\'s role; every credential of the user ends', params: UuidParamsSchema, body: RoleBodySchema, response: { 200: RoleReplySchema, ...errorReplies(400, 401, 403, 404, 503) } }
  }, async request => {
    const before = await findUserById(app.db.sql, request.params.id)
    if (!before) throw new Errors.NOT_FOUND('User')
    // a session or token keeps the role it was issued with, so the role may only change
    // together with a version bump that ends all of them
    const done = await revokeEverything(app, before.id, 'role_changed', { change: { kind: 'role', role: request.body.role } })
    if (!done) throw new Errors.NOT_FOUND('User')
    audit(request, 'ADMIN_ROLE_CHANGED', before.id, { from: before.role, to: done.user.role, revoked: revokedCount(done), ...unconfirmedDetail(done) })
    if (done.unconfirmed) throw done.unconfirmed
    return { user: { id: done.user.id, email: done.user.email, role: done.user.role }, revoked: revokedCount(done) }
  })

  app.get('/api/admin/stats', {
    schema: { tags: ['admin'], response: { 200: StatsSchema, ...errorReplies(401, 403) } }
  }, async request => {
    audit(request, 'ADMIN_READ', null, { read: 'stats' })
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
