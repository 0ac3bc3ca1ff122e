// Ending everything a user holds, in both systems: sessions (Redis, published), refresh
// families (Postgres) and the live access tokens issued with them (deny list), with the
// credential version bumped so that nothing issued by a request already in flight survives.
//
// Order matters: Postgres is the truth and is committed first (the change, the version bump,
// the families and the session records revoked, in one transaction). Only then Redis: the session sweep, the version key
// and the user-wide message in one atomic script, then the legacy version key and the deny list.
// By the time the caller answers, every check (session create, session validate, access token,
// refresh rotation) sees the new version. When Redis refuses a step (full, read-only, down), the
// others still run, and the result carries `unconfirmed`: the caller audits, then throws it (503
// REVOCATION_UNCONFIRMED) rather than answering a success Redis did not confirm.
import type { FastifyInstance } from 'fastify'
import { revokeUserFamilies, type LiveAccessToken } from './legacy/refresh-tokens.js'
import { changeCredentials, type BumpedUser, type CredentialChange } from './users.js'
import { redisSteps } from './redis-steps.js'

export interface RevokedEverything {
  user: BumpedUser
  sessions: string[]
  families: number
  accessTokens: number
  /** null when Redis confirmed every step; else the error to throw once the action is audited */
  unconfirmed: Error | null
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
    // the durable session records change in the same transaction as the version they answer to
    await app.sessionRecords.revoke(tx, userId, { except: opts.keepSessionPublicId ?? null }, reason)
    if (opts.keepSessionPublicId) await app.sessionRecords.moveToVersion(tx, opts.keepSessionPublicId, user.credentialVersion)
    return { user, families, access }
  }) as { user: BumpedUser; families: number; access: LiveAccessToken[] } | null
  if (!committed) return null
  const { user, families, access } = committed
  const steps = redisSteps(app.denyList)
  const sessions = await steps.run(app.sessions.revokeAll(userId, reason, opts.keepSessionPublicId, user.credentialVersion), [])
  await steps.run(app.denyList.raiseVersion(userId, user.credentialVersion), undefined)
  await steps.run(app.denyList.denyMany(access), undefined)
  app.sessionMirror.revoked(userId, sessions, reason)
  return { user, sessions, families, accessTokens: access.length, unconfirmed: await steps.settle() }
}

/** the count clients see as {revoked: n}: sessions plus legacy families */
export const revokedCount = (r: RevokedEverything): number => r.sessions.length + r.families

/** the audit detail of a revocation Redis did not confirm (nothing when it did) */
export const unconfirmedDetail = (r: RevokedEverything): { redisConfirmed?: false } =>
  r.unconfirmed ? { redisConfirmed: false } : {}
