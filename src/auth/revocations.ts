// The revocation channel: the one public surface through which other parts (the near cache,
// the price feed's sockets) learn that credentials ended. Every instance subscribes to it.
// Messages are JSON; each names the user and, when one credential ended rather than all of
// them, which one:
//   { userId, publicId, reason }   one session ended (logout, revoke, eviction, expiry)
//   { userId, jti, reason }        one legacy access token ended (legacy logout)
//   { userId, reason }             every credential of the user ended (password change,
//                                  disable, logout-all, role change: the credential version moved)
// A message published from TypeScript also carries `at`, its publish time in ms since the epoch
// (ops measures propagation with it); listeners must ignore fields they do not know.

export interface RevokedMessage {
  userId: string
  publicId?: string
  jti?: string
  reason: string
}

import type { RedisClient } from '../infra/redis.js'

/** publishes a message from TypeScript (the session scripts publish their own from Lua) */
export async function publishRevoked (redis: RedisClient, keyPrefix: string, message: RevokedMessage): Promise<void> {
  // `at` (ms since epoch) lets listeners measure propagation; parsers ignore it
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
    ...(typeof m.jti === 'string' ? { jti: m.jti } : {})
  }
}
