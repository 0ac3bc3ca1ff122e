// The rollout decides, per user, whether a login gets a session cookie or legacy tokens.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { getsSession } from './rollout.js'
import { issueSession, type IssuedSession } from './issue-session.js'
import { describeDevice } from './sessions/device.js'
import { issueRefreshToken, type IssuedRefreshToken } from './legacy/refresh-tokens.js'
import type { Queryable } from '../infra/db.js'
import { toPublicUser, type IssuingUser, type PublicUser } from './users.js'
import { normalizeIp, requestContext } from '../core/request-context.js'

export interface IssuedLegacy {
  user: PublicUser
  auth: { mode: 'legacy'; accessToken: string; refreshToken: string; expiresIn: number }
}

export type IssuedAuth = IssuedSession | IssuedLegacy

export async function issueAuth (app: FastifyInstance, request: FastifyRequest, reply: FastifyReply, user: IssuingUser): Promise<IssuedAuth> {
  if (getsSession(app.config.rollout, user.id, app.rolloutOverride.current?.maxPercentage ?? null)) {
    app.authStats.logins.session++
    return issueSession(app, request, reply, user)
  }
  app.authStats.logins.legacy++
  const issued = await issueLegacyTokens(app, app.db.sql, request, user, Date.now() + app.config.refresh.ttlMs)
  app.audit.record({ type: 'LOGIN_SUCCESS', userId: user.id, ...requestContext(request), details: { mode: 'legacy', familyId: issued.refresh.familyId } })
  return issued.reply
}

/** an access token and a refresh token (a new family, or the next of `from`'s family) */
export async function issueLegacyTokens (
  app: FastifyInstance, sql: Queryable, request: FastifyRequest, user: IssuingUser, refreshExpiresAt: number,
  from?: { id: string; familyId: string }
): Promise<{ reply: IssuedLegacy; refresh: IssuedRefreshToken }> {
  // both carry the version read: the access token is refused and the refresh token cannot
  // rotate once a user-wide revocation moved it, even if this request was already in flight
  const access = app.legacyJwt.sign(user, user.credentialVersion)
  const userAgent = request.headers['user-agent'] ?? ''
  const d = describeDevice(userAgent)
  const refresh = await issueRefreshToken(sql, user.id, { device: `${d.browser} on ${d.os}`, userAgent, ip: normalizeIp(request.ip) }, refreshExpiresAt, access, user.credentialVersion, from)
  return {
    refresh,
    reply: {
      user: toPublicUser(user),
      auth: { mode: 'legacy', accessToken: access.token, refreshToken: refresh.token, expiresIn: Math.round(app.config.jwt.accessTtlMs / 1000) }
    }
  }
}
