// PLACEHOLDER (to be implemented): per-account failed-login backoff in Redis.
import type { Config } from '../config.js'
import type { RedisClient } from '../infra/redis.js'

export interface LoginBackoff {
  /** seconds the account must wait before the next attempt, 0 when it may try now */
  retryAfter: (email: string) => Promise<number>
  recordFailure: (email: string) => Promise<void>
  reset: (email: string) => Promise<void>
}

export function createLoginBackoff (_redis: RedisClient, _config: Config): LoginBackoff {
  return { retryAfter: async () => 0, recordFailure: async () => {}, reset: async () => {} }
}
