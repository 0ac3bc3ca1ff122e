// Ending everything a user holds, in both systems: sessions (Redis, published), refresh
// families (Postgres) and the live access tokens issued with them (deny list).
import type { FastifyInstance } from 'fastify'
import { revokeUserFamilies } from './legacy/refresh-tokens.js'

export interface RevokedEverything {
  sessions: string[]
  families: number
  accessTokens: number
}

export async function revokeEverything (app: FastifyInstance, userId: string, reason: string, keepSessionPublicId?: string): Promise<RevokedEverything> {
  const sessions = await app.sessions.revokeAll(userId, reason, keepSessionPublicId)
  app.sessionMirror.revoked(sessions, reason)
  const { families, access } = await revokeUserFamilies(app.db.sql, userId, reason)
  await app.denyList.denyMany(access)
  return { sessions, families, accessTokens: access.length }
}

/** the count clients see as {revoked: n}: sessions plus legacy families */
export const revokedCount = (r: RevokedEverything): number => r.sessions.length + r.families
