// Ending everything a user holds, in both systems: sessions (Redis, published), refresh
// families (Postgres) and the live access tokens issued with them (deny list), with the
// credential version bumped so that nothing issued by a request already in flight survives.
//
// Order matters: Postgres is the truth and is committed first (the change, the version bump and
// the families revoked, in one transaction). Only then Redis: the session sweep, the version key
// and the user-wide message in one atomic script, then the legacy version key and the deny list.
// By the time the caller answers, every check (session create, session validate, access token,
// refresh rotation) sees the new version.
import type { FastifyInstance } from 'fastify'
import { revokeUserFamilies, type LiveAccessToken } from './legacy/refresh-tokens.js'
import { changeCredentials, type BumpedUser, type CredentialChange } from './users.js'

export interface RevokedEverything {
  user: BumpedUser
  sessions: string[]
  families: number
  accessTokens: number
}

/** null when there is no such user (nothing changed) */
export async function revokeEverything (
  app: FastifyInstance, userId: string, reason: string,
  opts: { change?: CredentialChange; keepSessionPublicId?: string } = {}
): Promise<RevokedEverything | null> {
  const committed = await app.db.sql.begin(async tx => {
    const user = await changeCredentials(tx, userId, opts.change ?? { kind: 'none' })
    if (!user) return null
    const { families, access } = await revokeUserFamilies(tx, userId, reason)
    return { user, families, access }
  }) as { user: BumpedUser; families: number; access: LiveAccessToken[] } | null
  if (!committed) return null
  const { user, families, access } = committed
  const sessions = await app.sessions.revokeAll(userId, reason, opts.keepSessionPublicId, user.credentialVersion)
  await app.denyList.raiseVersion(userId, user.credentialVersion)
  await app.denyList.denyMany(access)
  app.sessionMirror.revoked(userId, sessions, reason)
  return { user, sessions, families, accessTokens: access.length }
}

/** the count clients see as {revoked: n}: sessions plus legacy families */
export const revokedCount = (r: RevokedEverything): number => r.sessions.length + r.families
