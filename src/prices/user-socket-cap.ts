// WS_MAX_PER_USER across all instances: a sorted set per user of socket ids scored by when
// each claim lapses. Instances refresh their sockets' claims on every ping round, so the
// claims of a crashed instance lapse by themselves instead of locking the user out.
import type { Redis } from 'ioredis'
import type { RedisClient } from '../infra/redis.js'

// KEYS[1] the user's set; ARGV[1] now, ARGV[2] lapse at, ARGV[3] socket id, ARGV[4] max
const CLAIM = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1`

interface CapCommands { hpWsClaim: (key: string, now: number, lapseAt: number, id: string, max: number) => Promise<number> }

export interface UserSocketCap {
  /** false when the user already holds the maximum */
  claim: (userId: string, socketId: string) => Promise<boolean>
  release: (userId: string, socketId: string) => Promise<void>
  refresh: (claims: { userId: string; socketId: string }[]) => Promise<void>
}

export function createUserSocketCap (redis: RedisClient, opts: { keyPrefix: string; max: number; lapseMs: number }): UserSocketCap {
  const r = redis as Redis
  if (!('hpWsClaim' in r)) r.defineCommand('hpWsClaim', { numberOfKeys: 1, lua: CLAIM })
  const scripts = r as unknown as CapCommands
  const key = (userId: string): string => `${opts.keyPrefix}ws-sockets:${userId}`

  return {
    async claim (userId, socketId) {
      const now = Date.now()
      return await scripts.hpWsClaim(key(userId), now, now + opts.lapseMs, socketId, opts.max) === 1
    },
    async release (userId, socketId) {
      await r.zrem(key(userId), socketId)
    },
    async refresh (claims) {
      if (claims.length === 0) return
      const lapseAt = Date.now() + opts.lapseMs
      // one command per user key (keys of different users may live on different Cluster nodes)
      await Promise.all(claims.map(async c => {
        await r.zadd(key(c.userId), 'XX', lapseAt, c.socketId)
        await r.pexpireat(key(c.userId), lapseAt)
      }))
    }
  }
}
