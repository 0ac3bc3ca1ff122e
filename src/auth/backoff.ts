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
  /**
   * Reserves one attempt before the password is verified, in one atomic call: 0 when the
   * attempt may go ahead (it is already counted as a failure, so N concurrent guesses consume
   * N attempts before any of them is verified), else the seconds to wait (nothing counted).
   * A success calls reset().
   */
  reserve: (email: string) => Promise<number>
  /** seconds the account must wait before the next attempt, 0 when it may try now */
  retryAfter: (email: string) => Promise<number>
  /** counts a failure whatever the lock says */
  recordFailure: (email: string) => Promise<void>
  reset: (email: string) => Promise<void>
}

const FIRST_LOCK_MS = 1000
const MIN_QUIET_MS = 15 * 60_000

// One round trip, atomic: count, extend the counter, and lock for
// first * 2^(failures - threshold), capped. The counter lives for the lock plus a quiet
// window, so it cannot expire together with a capped lock and hand the attacker a fresh
// set of free guesses. With ARGV[5] = 1 (a reservation) an existing lock refuses first and
// counts nothing. Returns { refused lock ms or 0, lock set ms or 0 }.
const RECORD_FAILURE = `
if ARGV[5] == '1' then
  local held = redis.call('PTTL', KEYS[2])
  if held > 0 then return { held, 0 } end
end
local n = redis.call('INCR', KEYS[1])
local threshold, first, max, quiet = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local lock = 0
if n >= threshold then
  lock = math.floor(math.min(first * 2 ^ math.min(n - threshold, 40), max))
  redis.call('SET', KEYS[2], n, 'PX', lock)
end
redis.call('PEXPIRE', KEYS[1], lock + quiet)
return { 0, lock }
`

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    hallpassLoginAttempt (counterKey: string, lockKey: string, threshold: number, firstMs: number, maxMs: number, quietMs: number, reservation: 0 | 1): Result<[number, number], Context>
  }
}

/** the account part of the keys: SHA-256 of the trimmed, lowercased email, base64url */
export function accountTag (email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase()).digest('base64url')
}

export function createLoginBackoff (redis: RedisClient, config: Config): LoginBackoff {
  // a client shared by several apps (tests) defines the script once
  if (typeof redis.hallpassLoginAttempt !== 'function') {
    redis.defineCommand('hallpassLoginAttempt', { numberOfKeys: 2, lua: RECORD_FAILURE })
  }
  const { threshold, maxMs } = config.loginBackoff
  const quietMs = Math.max(maxMs, MIN_QUIET_MS)
  const keys = (email: string): [string, string] => {
    const counter = `${config.redis.keyPrefix}lb:{${accountTag(email)}}`
    return [counter, counter + ':lock']
  }

  return {
    async reserve (email) {
      const [counter, lock] = keys(email)
      const [refusedMs] = await redis.hallpassLoginAttempt(counter, lock, threshold, FIRST_LOCK_MS, maxMs, quietMs, 1)
      return refusedMs > 0 ? Math.ceil(refusedMs / 1000) : 0
    },
    async retryAfter (email) {
      const ms = await redis.pttl(keys(email)[1])
      // -2: no lock; -1 (a lock without expiry) cannot be written by this module
      return ms > 0 ? Math.ceil(ms / 1000) : 0
    },
    async recordFailure (email) {
      const [counter, lock] = keys(email)
      await redis.hallpassLoginAttempt(counter, lock, threshold, FIRST_LOCK_MS, maxMs, quietMs, 0)
    },
    async reset (email) {
      // both keys share a slot, so one DEL is fine on a Cluster too
      await redis.del(...keys(email))
    }
  }
}
