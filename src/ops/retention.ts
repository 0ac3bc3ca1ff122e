// Retention jobs: rows past their retention are deleted in short batches, by one instance at a
// time. The instance that takes the Redis lock runs; the others skip. The lock is not released
// after the run but expires with the interval, so the fleet runs the jobs once per interval, not
// once per instance. Each lock carries a fencing token from a counter that only grows; between
// batches the runner checks the lock still holds its token and stops when it does not (a stalled
// runner whose lock expired and went to another instance does not carry on beside it).
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../infra/redis.js'
import type { Sql } from '../infra/db.js'
import type { Config } from '../config/config.js'
import { retentionRowsDeleted, retentionRuns } from './metrics.js'

export type RetentionTable = 'refresh_tokens' | 'jwt_deny_list' | 'user_sessions' | 'audit_logs'

export interface RetentionRun {
  /** false when another instance holds the lock (nothing was deleted here) */
  ran: boolean
  deleted: Record<RetentionTable, number>
}

export interface Retention {
  /** takes the lock and runs every job, or returns { ran: false } at once when another instance has it */
  runOnce: () => Promise<RetentionRun>
}

// KEYS[1] lock, KEYS[2] fence counter; ARGV[1] ttl ms → the new token, or 0 when held
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token`

// a deny-list entry only matters until its token expires; an hour's margin covers clock skew
const DENY_LIST_MARGIN = '1 hour'

// when the jobs only run on demand (RETENTION_INTERVAL=0), the lock still bounds one run
const ON_DEMAND_LOCK_MS = 10 * 60_000

export function createRetention (redis: RedisClient, sql: Sql, config: Config, log: FastifyBaseLogger): Retention {
  const r = redis as Redis
  if (!('hpRetentionAcquire' in r)) r.defineCommand('hpRetentionAcquire', { numberOfKeys: 2, lua: ACQUIRE })
  const acquire = (r as unknown as { hpRetentionAcquire: (lock: string, fence: string, ttl: number) => Promise<number> }).hpRetentionAcquire.bind(r)
  const lock = `${config.redis.keyPrefix}{retention}:lock`
  const fence = `${config.redis.keyPrefix}{retention}:fence`
  const { batchSize, auditDays, sessionDays, refreshTokenDays, intervalMs } = config.retention
  const lockMs = intervalMs > 0 ? intervalMs : ON_DEMAND_LOCK_MS

  // one batch per call: at most batchSize rows, picked by ctid, skipping rows others hold
  const batches: Record<RetentionTable, () => Promise<number>> = {
    refresh_tokens: async () => (await sql<{ n: number }[]>`select cleanup_expired_refresh_tokens(${refreshTokenDays}::int, ${batchSize}::int) as n`)[0]!.n,
    // no row lock here: nothing updates deny-list rows (and the app role may not)
    jwt_deny_list: async () => (await sql`
      delete from jwt_deny_list where ctid in (
        select ctid from jwt_deny_list where expires_at < now() - ${DENY_LIST_MARGIN}::interval
        limit ${batchSize})`).count,
    user_sessions: async () => (await sql`
      delete from user_sessions where ctid in (
        select ctid from user_sessions
        where revoked_at < now() - make_interval(days => ${sessionDays}::int)
           or expires_at < now() - make_interval(days => ${sessionDays}::int)
        limit ${batchSize} for update skip locked)`).count,
    audit_logs: async () => (await sql<{ n: number }[]>`select purge_audit_logs(${auditDays}::int, ${batchSize}::int) as n`)[0]!.n
  }

  return {
    async runOnce () {
      const deleted: Record<RetentionTable, number> = { refresh_tokens: 0, jwt_deny_list: 0, user_sessions: 0, audit_logs: 0 }
      const token = await acquire(lock, fence, lockMs)
      if (!token) {
        retentionRuns.inc({ outcome: 'skipped' })
        return { ran: false, deleted }
      }
      const stillOurs = async (): Promise<boolean> => (await r.get(lock)) === String(token)
      // stop well before the lock expires, so a slow run never overlaps the next one
      const deadline = Date.now() + lockMs / 2
      try {
        for (const table of Object.keys(batches) as RetentionTable[]) {
          for (;;) {
            const n = await batches[table]()
            deleted[table] += n
            retentionRowsDeleted.inc({ table }, n)
            if (n < batchSize || Date.now() > deadline || !(await stillOurs())) break
            await new Promise(resolve => setImmediate(resolve)) // let requests run between batches
          }
        }
        retentionRuns.inc({ outcome: 'ran' })
        log.info({ deleted, fence: token }, 'retention: rows past retention deleted')
        return { ran: true, deleted }
      } catch (err) {
        retentionRuns.inc({ outcome: 'failed' })
        throw err
      }
    }
  }
}
