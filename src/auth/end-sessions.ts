// Ending one session of a user, or all but one: Postgres first, committed (from then on the
// fallback refuses the session), the audit row, and only then Redis. When Redis cannot confirm,
// the caller gets 503 REVOCATION_UNCONFIRMED with the revocation already durable and audited;
// Redis catches up when it answers again (restore.ts), and a retry answers as a success, not 404.
import type { FastifyInstance } from 'fastify'
import type { RevokeTarget } from './sessions/records.js'
import { isRedisFailure } from '../core/dependency-errors.js'
import { revocationUnconfirmed } from './legacy/deny-list.js'

export interface EndedSessions {
  /** the target exists for this user (revoked now or by an earlier try) */
  found: boolean
  /** public ids this call ended */
  revoked: string[]
}

export async function endSessions (
  app: FastifyInstance, userId: string, target: RevokeTarget, reason: string, audit: (publicIds: string[]) => void
): Promise<EndedSessions> {
  const durable = await app.sessionRecords.revoke(app.db.sql, userId, target, reason)
  if (durable.revoked.length > 0) audit(durable.revoked)
  let inRedis: string[]
  try {
    inRedis = 'only' in target
      ? ((await app.sessions.revoke(userId, target.only, reason)) ? [target.only] : [])
      : await app.sessions.revokeAll(userId, reason, target.except ?? '')
  } catch (err) {
    // durable and audited already: say the Redis half is unconfirmed, as every revocation does
    if (isRedisFailure(err)) throw revocationUnconfirmed(err)
    throw err
  }
  // sessions only Redis knew of (created before the durable record existed)
  const onlyInRedis = inRedis.filter(id => !durable.revoked.includes(id))
  if (onlyInRedis.length > 0) {
    app.sessionMirror.revoked(userId, onlyInRedis, reason)
    if (durable.revoked.length === 0) audit(onlyInRedis)
  }
  const revoked = [...durable.revoked, ...onlyInRedis]
  return { found: revoked.length > 0 || durable.alreadyRevoked, revoked }
}
