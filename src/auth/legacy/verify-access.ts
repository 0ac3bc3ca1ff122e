// The one check of a legacy access token, shared by the Bearer header path and the price
// feed's auth message: signature and claims locally, then one Redis MGET for the deny list and
// the user's credential version (a token minted before a bump is refused). A retired legacy
// path accepts no token at all, which also ends the feed's legacy sockets at their next check.
import type { FastifyInstance } from 'fastify'
import type { LegacyAuth } from '../context.js'

export async function verifyAccessToken (app: FastifyInstance, token: string): Promise<LegacyAuth | null> {
  if (!app.config.rollout.legacyAuthEnabled) return null // retired: see retirement.ts
  const claims = app.legacyJwt.verify(token)
  if (!claims || await app.denyList.isRefused({ jti: claims.jti, userId: claims.sub, credentialVersion: claims.credentialVersion })) return null
  return { mode: 'legacy', userId: claims.sub, email: claims.email, role: claims.role, jti: claims.jti, expiresAt: claims.exp * 1000 }
}
