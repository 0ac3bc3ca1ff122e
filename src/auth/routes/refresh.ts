// POST /api/auth/refresh: atomic rotation of a legacy refresh token. A client in the sessions
// bucket is upgraded here: its family ends and it gets a session cookie that keeps the
// family's remaining lifetime, without being asked for its password.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config/config.js'
import { Errors } from '../../core/errors.js'
import { routeRateLimit } from '../../core/rate-limits.js'
import { LOCKED } from '../../core/lockdown.js'
import { refuseWhenRetired } from '../legacy/retirement.js'
import { getsSession } from '../rollout.js'
import { issueSession } from '../issue-session.js'
import { issueLegacyTokens } from '../issue-auth.js'
import { linkReplacement, revokeFamily, rotateRefreshToken, type LiveAccessToken, type RotationFailure } from '../legacy/refresh-tokens.js'
import type { IssuedLegacy } from '../issue-auth.js'
import type { IssuingUser } from '../users.js'
import { requestContext } from '../../core/request-context.js'
import { AuthReplySchema, RefreshBodySchema } from '../schemas.js'
import { errorReplies } from '../../core/schemas.js'

/** what the rotation transaction decided; side effects outside Postgres happen after commit */
type Outcome =
  | { failure: RotationFailure }
  | { legacy: IssuedLegacy }
  | { end: { user: IssuingUser; reason: 'user_disabled' | 'upgraded'; familyId: string; expiresAt: number; access: LiveAccessToken[] } }

export const refreshRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  app.post('/api/auth/refresh', {
    config: { ...routeRateLimit(config, 'refresh'), ...LOCKED },
    onRequest: refuseWhenRetired, // nothing is rotated or revoked: the family waits for a return of the flag
    schema: {
      tags: ['auth'],
      summary: 'Rotate a legacy refresh token (or upgrade to a session)',
      body: RefreshBodySchema,
      response: { 200: AuthReplySchema, ...errorReplies(400, 401, 403, 409, 429, 503) }
    }
  }, async (request, reply) => {
    const outcome = await app.db.sql.begin(async (tx): Promise<Outcome> => {
      const rotated = await rotateRefreshToken(tx, request.body.refreshToken, config.refresh.reuseGraceMs)
      if (!('id' in rotated)) return { failure: rotated }
      const user = { id: rotated.userId, email: rotated.email, role: rotated.role, credentialVersion: rotated.credentialVersion }
      if (rotated.disabled || getsSession(config.rollout, rotated.userId, app.rolloutOverride.current?.maxPercentage ?? null)) {
        const reason = rotated.disabled ? 'user_disabled' : 'upgraded'
        return { end: { user, reason, familyId: rotated.familyId, expiresAt: rotated.expiresAt, access: await revokeFamily(tx, rotated.familyId, reason) } }
      }
      const next = await issueLegacyTokens(app, tx, request, user, rotated.expiresAt, { id: rotated.id, familyId: rotated.familyId })
      await linkReplacement(tx, rotated.id, next.refresh.id)
      return { legacy: next.reply }
    }) as Outcome

    if ('legacy' in outcome) return outcome.legacy

    if ('end' in outcome) {
      const { user, reason, familyId, expiresAt, access } = outcome.end
      await app.denyList.denyMany(access)
      if (reason === 'user_disabled') throw new Errors.AUTH_ACCOUNT_DISABLED()
      app.authStats.upgrades++
      app.authStats.logins.session++
      return issueSession(app, request, reply, user, { familyId, absoluteCapAt: expiresAt })
    }

    const failure = outcome.failure
    if (failure.kind === 'race') throw new Errors.AUTH_REFRESH_RACE()
    if (failure.kind === 'reuse') {
      // a token rotated long ago came back: assume theft and end the whole family
      const access = await revokeFamily(app.db.sql, failure.familyId, 'reuse_detected')
      await app.denyList.denyMany(access)
      app.audit.record({ type: 'TOKEN_REUSE_ATTACK', userId: failure.userId, ...requestContext(request), details: { familyId: failure.familyId, accessTokensDenied: access.length } })
      throw new Errors.AUTH_REFRESH_REUSED()
    }
    throw new Errors.AUTH_REFRESH_INVALID()
  })
}
