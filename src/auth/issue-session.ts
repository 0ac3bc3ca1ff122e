// Logging a user in: a fresh session (never an id the client sent), the cookie, the durable
// mirror and the audit rows. Sessions evicted to stay within the per-user limit are audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { describeDevice } from './sessions/device.js'
import { setSessionCookie } from './sessions/cookie.js'
import type { PublicUser } from './users.js'
import { normalizeIp, requestContext } from '../core/request-context.js'

export interface IssuedSession {
  user: PublicUser
  auth: { mode: 'session'; expiresAt: string }
}

export interface UpgradeFromLegacy {
  familyId: string
  /** epoch ms: the session ends when the legacy refresh family would have */
  absoluteCapAt: number
}

export async function issueSession (
  app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, user: PublicUser, upgrade?: UpgradeFromLegacy
): Promise<IssuedSession> {
  const userAgent = (request.headers['user-agent'] ?? '').slice(0, 512)
  const device = describeDevice(userAgent)
  const created = await app.sessions.create({
    userId: user.id, email: user.email, role: user.role, ip: request.ip, userAgent, device,
    ...(upgrade ? { absoluteCapAt: upgrade.absoluteCapAt } : {})
  })
  setSessionCookie(reply, app.config, created.token, created.absoluteExpiresAt)

  app.sessionMirror.created({
    publicId: created.publicId, userId: user.id, createdAt: created.createdAt,
    expiresAt: created.absoluteExpiresAt, device, ip: normalizeIp(request.ip), userAgent
  })
  app.sessionMirror.revoked(created.evicted, 'evicted')
  const who = { userId: user.id, ...requestContext(request) }
  const upgraded = upgrade ? { upgradedFrom: 'legacy', familyId: upgrade.familyId } : {}
  app.audit.record({ type: 'LOGIN_SUCCESS', ...who, sessionPublicId: created.publicId, details: { mode: 'session', device, ...upgraded } })
  for (const publicId of created.evicted) {
    app.audit.record({ type: 'SESSION_EVICTED', ...who, sessionPublicId: publicId, details: { limit: app.config.session.maxPerUser, by: created.publicId } })
  }
  return { user, auth: { mode: 'session', expiresAt: new Date(created.idleExpiresAt).toISOString() } }
}
