// Keeps Redis in step with Postgres after Redis failed. Two cases:
//
// - Redis lost its data (a restart without persistence, a FLUSHALL, a failover to an empty
//   replica). None of these publishes anything, so a sentinel key written at start tells: when it
//   is missing, the data is gone. Then the near cache is emptied, and the live rows of Postgres are
//   put back into Redis (a repair pass in pages). Until the pass ends, a Redis miss is looked up in
//   Postgres (store.restoring), so nobody is logged out meanwhile; outside that window a miss
//   never costs a Postgres query (a random cookie must not be a lever on the database).
// - Redis was unreachable for a while: revocations committed in Postgres meanwhile may not have
//   reached it. When it answers again, sessions revoked since the outage began are removed.
//
// Both passes end by removing what Postgres revoked since they began, so a revocation that
// committed while a session was being put back cannot be undone by the put-back.
import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from '../../infra/redis.js'
import type { SessionCache } from './cache.js'
import type { SessionRecords } from './records.js'
import type { RedisBreaker } from './redis-breaker.js'
import type { SessionStore } from './store.js'

// a revocation's revoked_at is its transaction's now(), earlier than its commit: look back this far
const REVOKED_LOOKBACK_MS = 60_000
const PAGE = 500

export interface SessionRestorer {
  /** checks the sentinel now; resolves when any repair it started has finished */
  check: () => Promise<void>
  /** how many times this instance found Redis' data lost */
  readonly losses: number
  close: () => void
}

export interface RestorerDeps {
  redis: RedisClient
  store: SessionStore
  records: SessionRecords
  breaker: RedisBreaker
  cache: SessionCache | null
  log: FastifyBaseLogger
  keyPrefix: string
  checkEveryMs: number
  /** whether a sentinel missing at this instance's first check is a loss too (else a fresh Redis) */
  restoreOnStart: boolean
}

export function createSessionRestorer ({ redis, store, records, breaker, cache, log, keyPrefix, checkEveryMs, restoreOnStart }: RestorerDeps): SessionRestorer {
  const sentinelKey = `${keyPrefix}sessions-sentinel`
  let running: Promise<void> | null = null
  let losses = 0
  let closed = false
  let firstCheck = true

  const forgetRevokedSince = async (since: number): Promise<number> =>
    store.forget(await records.revokedSince(since - REVOKED_LOOKBACK_MS))

  const repair = async (): Promise<void> => {
    const started = Date.now()
    losses++
    cache?.clear()
    store.restoring = true
    try {
      let restored = 0
      let after = ''
      for (;;) {
        const page = await records.livePage(after, PAGE)
        if (page.length === 0) break
        restored += await store.restore(page)
        after = page[page.length - 1]!.publicId
      }
      const removed = await forgetRevokedSince(started)
      log.warn({ restored, removed, ms: Date.now() - started }, 'sessions: Redis had lost its data; live sessions restored from Postgres')
    } finally {
      store.restoring = false
    }
  }

  const checkOnce = async (): Promise<void> => {
    // SET NX answers whether the sentinel was missing, and writes it, in one call
    const missing = await breaker.run(() => redis.set(sentinelKey, String(Date.now()), 'NX'))
    const first = firstCheck
    firstCheck = false
    if (missing === 'OK' && (!first || restoreOnStart)) await repair()
    else store.restoring = false
  }

  // one check or repair at a time; a failure (Redis or Postgres down) is retried by the next tick
  const check = (): Promise<void> => {
    if (closed) return Promise.resolve()
    running ??= checkOnce()
      .catch(err => log.warn({ err: (err as Error).message }, 'sessions: sentinel check or repair failed; retrying'))
      .finally(() => { running = null })
    return running
  }

  breaker.onRecovered(openedAt => {
    forgetRevokedSince(openedAt)
      .then(removed => log.info({ removed }, 'sessions: revocations made during the Redis outage applied'))
      .catch(err => log.warn({ err: (err as Error).message }, 'sessions: applying revocations after the outage failed'))
    check()
  })
  // a (re)connection may be to an empty server: until the sentinel says otherwise, a miss is
  // looked up in Postgres, so no request that races the check logs its user out
  const onReady = (): void => {
    store.restoring = true
    check().catch(() => {})
  }
  redis.on('ready', onReady)
  const timer = setInterval(() => { check().catch(() => {}) }, checkEveryMs)
  timer.unref()

  return {
    check,
    get losses () { return losses },
    close () {
      closed = true
      clearInterval(timer)
      redis.off('ready', onReady)
    }
  }
}
