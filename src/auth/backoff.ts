// Per-account backoff after failed logins, so one account cannot be guessed from many IPs
// (the per-IP rate limit cannot see that). Keys carry SHA-256 of the email, never the email.
// Two keys per account share one {hash tag}, so they live in one Redis Cluster slot:
//   <prefix>lb:{h}       failure counter
//   <prefix>lb:{h}:lock  present while the account is locked; its PTTL is the wait
import { createHash } from 'node:crypto'
import type { Result, ClientContext } from 'ioredis'
import type { Config } from '../config/config.js'
import type { RedisClient } from '../infra/redis.js'

export interface LoginBackoff {
  /** seconds the account must wait before the next attempt, 0 when it may try now */
  retryAfter: (email: string) => Promise<number>
  recordFailure: (email: string) => Promise<void>
  reset: (email: string) => Promise<void>
}

const FIRST_LOCK_MS = 1000
const MIN_QUIET_MS = 15 * 60_000

// One round trip, atomic: count, extend the counter, and lock for
// first * 2^(failures - threshold), capped. The counter lives for the lock plus a quiet
// window, so it cannot expire together with a capped lock and hand the attacker a fresh
// set of free guesses. Returns the lock in ms (0 when below the threshold).
const RECORD_FAILURE = `
local n = redis.call('INCR', KEYS[1])
local threshold, first, max, quiet = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lock = 0
if n >= threshold then
  lock = math.floor(math.min(first * 2 ^ math.min(n - threshold, 40), max))
  redis.call('SET', KEYS[2], n, 'PX', lock)
end
redis.call('PEXPIRE', KEYS[1], lock + quiet)
return lock
`

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    hallpassLoginFailure (counterKey: string, lockKey: string, threshold: number, firstMs: number, maxMs: number, quietMs: number): Result<number, Context>
  }
}

/** the account part of the keys: SHA-256 of the trimmed, lowercased email, base64url */
export function accountTag (email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url')
}

export function createLoginBackoff (redis: RedisClient, config: Config): LoginBackoff {
  // a client shared by several apps (tests) defines the script once
  if (typeof redis.hallpassLoginFailure !== 'function') {
    redis.defineCommand('hallpassLoginFailure', { numberOfKeys: 2, lua: RECORD_FAILURE })
  }
  const { threshold, maxMs } = config.loginBackoff
  const quietMs = Math.max(maxMs, MIN_QUIET_MS)
  const keys = (email: string): [string, string] => {
    const counter = `${config.redis.keyPrefix}lb:{${accountTag(email)}}`
    return [counter, counter + ':lock']
  }

  return {
    async retryAfter (email) {
      const ms = await redis.pttl(keys(email)[1])
      // -2: no lock; -1 (a lock without expiry) cannot be written by this module
      return ms > 0 ? Math.ceil(ms / 1000) : 0
    },
    async recordFailure (email) {
      const [counter, lock] = keys(email)
      await redis.hallpassLoginFailure(counter, lock, threshold, FIRST_LOCK_MS, maxMs, quietMs)
    },
    async reset (email) {
      // both keys share a slot, so one DEL is fine on a Cluster too
      await redis.del(...keys(email))
    }
  }
}
