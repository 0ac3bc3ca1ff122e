// Logging a user in: a fresh session (never an id the client sent), the cookie, the durable
// record (written by the store before Redis) and the audit rows. Sessions evicted to stay within the per-user limit are audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { describeDevice } from './sessions/device.js'
import { setSessionCookie } from './sessions/cookie.js'
import { toPublicUser, type IssuingUser, type PublicUser } from './users.js'
import { Errors } from '../core/errors.js'
import { requestContext } from '../core/request-context.js'

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
  app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, user: IssuingUser, upgrade?: UpgradeFromLegacy
): Promise<IssuedSession> {
  const userAgent = (request.headers['user-agent'] ?? '').slice(0, 512)
  const device = describeDevice(userAgent)
  const created = await app.sessions.create({
    userId: user.id,
    email: user.email,
    role: user.role,
    ip: request.ip,
    userAgent,
    device,
    credentialVersion: user.credentialVersion,
    ...(upgrade ? { absoluteCapAt: upgrade.absoluteCapAt } : {})
  })
  if (!created) {
    // a password change, disable, logout-all or role change committed while this login ran
    app.audit.record({ type: 'LOGIN_FAILURE', userId: user.id, ...requestContext(request), details: { reason: 'credentials_changed' } })
    throw new Errors.AUTH_CREDENTIALS_CHANGED()
  }
  setSessionCookie(reply, app.config, created.token, created.absoluteExpiresAt)

  // the durable record was written by create(), before Redis; evictions happen in Redis' script,
  // and are made durable before the answer (else a restore after a Redis flush would bring an
  // evicted session back); if Postgres fails now, the mirror keeps retrying them
  for (const publicId of created.evicted) {
    await app.sessionRecords.revoke(app.db.sql, user.id, { only: publicId }, 'evicted')
      .catch(() => app.sessionMirror.revoked(user.id, [publicId], 'evicted'))
  }
  const who = { userId: user.id, ...requestContext(request) }
  const upgraded = upgrade ? { upgradedFrom: 'legacy', familyId: upgrade.familyId } : {}
  app.audit.record({ type: 'LOGIN_SUCCESS', ...who, sessionPublicId: created.publicId, details: { mode: 'session', device, ...upgraded } })
  for (const publicId of created.evicted) {
    app.audit.record({ type: 'SESSION_EVICTED', ...who, sessionPublicId: publicId, details: { limit: app.config.session.maxPerUser, by: created.publicId } })
  }
  return { user: toPublicUser(user), auth: { mode: 'session', expiresAt: new Date(created.idleExpiresAt).toISOString() } }
}
