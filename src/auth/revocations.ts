// The revocation channel: the one public surface through which other parts (the near cache,
// the price feed's sockets) learn that credentials ended. Every instance subscribes to it.
// Messages are JSON; each names the user and, when one credential ended rather than all of
// them, which one:
//   { userId, publicId, reason }   one session ended (logout, revoke, eviction, expiry)
//   { userId, jti, reason }        one legacy access token ended (legacy logout)
//   { userId, reason }             every credential of the user ended (password change,
//                                  disable, logout-all, role change: the credential version moved)
// Every message also carries `at`, its publish time in ms since the epoch (TypeScript reads the
// instance's clock, the session Lua scripts Redis' own): the feed measures propagation with it.
// Listeners must ignore fields they do not know.

export interface RevokedMessage {
  userId: string
  publicId?: string
  jti?: string
  reason: string
  /** publish time, ms since the epoch (absent only from messages of older versions) */
  at?: number
}

import type { RedisClient } from '../infra/redis.js'

/** publishes a message from TypeScript (the session scripts publish their own from Lua) */
export async function publishRevoked (redis: RedisClient, keyPrefix: string, message: Omit<RevokedMessage, 'at'>): Promise<void> {
  await redis.publish(revocationChannel(keyPrefix), JSON.stringify({ ...message, at: Date.now() }))
}

/** the Pub/Sub channel of revocations for a key prefix */
export const revocationChannel = (keyPrefix: string): string => `${keyPrefix}session-revoked`

/** null for anything that is not a well-formed message (the caller fails closed) */
export function parseRevokedMessage (payload: string): RevokedMessage | null {
  let value: unknown
  try { value = JSON.parse(payload) } catch { return null }
  if (typeof value !== 'object' || value === null) return null
  const m = value as Record<string, unknown>
  if (typeof m.userId !== 'string' || typeof m.reason !== 'string') return null
  if (m.publicId !== undefined && typeof m.publicId !== 'string') return null
  if (m.jti !== undefined && typeof m.jti !== 'string') return null
  return {
    userId: m.userId,
    reason: m.reason,
    ...(typeof m.publicId === 'string' ? { publicId: m.publicId } : {}),
    ...(typeof m.jti === 'string' ? { jti: m.jti } : {}),
    // a bad timestamp costs a propagation sample, never the revocation
    ...(typeof m.at === 'number' && Number.isFinite(m.at) ? { at: m.at } : {})
  }
}
