// A person's devices: list their sessions, end one, or end all but the current one.
// Session ids here are the public handles; another user's id is a 404, as is an unknown one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config/config.js'
import { Errors } from '../../core/errors.js'
import { requireUser, authOf } from '../guards.js'
import { clearSessionCookie } from '../sessions/cookie.js'
import { requestContext } from '../../core/request-context.js'
import type { SessionSummary } from '../sessions/types.js'
import { RevokedCountSchema, SessionIdParamsSchema, SessionListSchema } from '../schemas.js'
import { errorReplies } from '../../core/schemas.js'
import { endSessions } from '../end-sessions.js'

export function sessionView (s: SessionSummary, currentPublicId: string | null) {
  return {
    id: s.publicId,
    current: s.publicId === currentPublicId,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    device: s.device,
    ip: s.ip
  }
}

export const sessionRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.addHook('onRequest', requireUser)

  app.get('/api/auth/sessions', {
    schema: { tags: ['sessions'], summary: 'The caller\'s live sessions', response: { 200: SessionListSchema, ...errorReplies(401) } }
  }, async request => {
    const auth = authOf(request)
    const current = auth.mode === 'session' ? auth.sessionPublicId : null
    const sessions = await app.sessions.list(auth.userId)
    return { sessions: sessions.map(s => sessionView(s, current)) }
  })

  app.delete('/api/auth/sessions/:id', {
    schema: {
      tags: ['sessions'],
      summary: 'End one of the caller\'s sessions',
      params: SessionIdParamsSchema,
      response: { 204: { type: 'null' }, ...errorReplies(400, 401, 403, 404, 503) }
    }
  }, async (request, reply) => {
    const auth = authOf(request)
    const { id } = request.params
    if (auth.mode === 'session' && auth.sessionPublicId === id) clearSessionCookie(reply, config)
    const ended = await endSessions(app, auth.userId, { only: id }, 'revoked', () =>
      app.audit.record({ type: 'SESSION_REVOKED', userId: auth.userId, sessionPublicId: id, ...requestContext(request) }))
    if (!ended.found) throw new Errors.NOT_FOUND('Session')
    return reply.code(204).send()
  })

  app.delete('/api/auth/sessions', {
    schema: { tags: ['sessions'], summary: 'End every session of the caller but the current one', response: { 200: RevokedCountSchema, ...errorReplies(401, 403, 503) } }
  }, async request => {
    const auth = authOf(request)
    const keep = auth.mode === 'session' ? auth.sessionPublicId : null
    const { revoked } = await endSessions(app, auth.userId, { except: keep }, 'revoked_others', ids =>
      app.audit.record({ type: 'SESSIONS_REVOKED_ALL', userId: auth.userId, sessionPublicId: keep, ...requestContext(request), details: { revoked: ids.length, scope: 'others' } }))
    return { revoked: revoked.length }
  })
}
