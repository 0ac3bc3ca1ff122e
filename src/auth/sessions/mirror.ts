// The writes to user_sessions that may trail the request (records.ts holds the ones that must
// not): last-seen times and their idle expiry, batched (one UPDATE per flush), and the
// revocations of sessions Redis evicted. Like the audit log, a write that fails is kept and
// retried with a growing wait, up to a bound (the oldest are dropped and counted in the log),
// and close writes what it can. A failed write is never silently lost: the idle expiry in
// Postgres would otherwise lag, and an evicted session would stay live there.
//
// The "created" and "revoked" writes of one session race (a login followed at once by a
// logout sends both before either lands), so both are upserts that commute: a revocation
// that arrives first inserts a revoked placeholder, and the creation then fills in the
// details but never clears revoked_at. Either order ends with the row Redis agrees with.
import type { FastifyBaseLogger } from 'fastify'
import type { Sql } from '../../infra/db.js'
import type { Device } from './types.js'
import { normalizeIp } from '../../core/request-context.js'

interface MirroredSession {
  publicId: string
  userId: string
  createdAt: number
  expiresAt: number
  device: Device
  ip: string | null
  userAgent: string
}

export interface SessionMirror {
  created: (s: MirroredSession) => void
  revoked: (userId: string, publicIds: string[], reason: string) => void
  /** the session slid: last seen `at`, idle until `idleExpiresAt` (both epoch ms) */
  seen: (publicId: string, at: number, idleExpiresAt?: number) => void
  /** writes queued or kept for retry (tests and shutdown read it) */
  readonly pending: number
  /** writes pending last-seen times and waits for writes in flight */
  flush: () => Promise<void>
  close: () => Promise<void>
}

const MAX_RETRIED = 10_000
// short: a round while Postgres is still down costs one refused batch (the pool's breaker answers
// at once), and the writes that wait are idle expiries and revocations Postgres should have
const MAX_BACKOFF_MS = 5000
// kept writes retried at once, below the pool's size: a backlog sent whole would queue behind
// the pool, wait out the query deadline and read to the breaker as Postgres being down
const RETRY_BATCH = 4

interface Write { run: () => Promise<unknown>; what: string }

export function createSessionMirror (sql: Sql, log: FastifyBaseLogger, flushEveryMs = 10_000): SessionMirror {
  const lastSeen = new Map<string, { at: number; idle: number | null }>()
  const inFlight = new Set<Promise<unknown>>()
  let retry: Write[] = []
  // retry rounds that failed in a row: the backoff grows per round, not per kept write
  let failedRounds = 0
  let warned = false
  let dropped = 0
  let retryTimer: NodeJS.Timeout | null = null
  let retrying: Promise<void> | null = null
  let closed = false

  const keep = (writes: Write[], err: unknown, where: 'front' | 'back'): void => {
    if (!warned) log.warn({ err: (err as Error).message }, `session mirror: ${writes[0]!.what} failed; kept for retry`)
    warned = true
    retry = where === 'front' ? [...writes, ...retry] : [...retry, ...writes]
    if (retry.length > MAX_RETRIED) {
      dropped += retry.length - MAX_RETRIED
      retry = retry.slice(retry.length - MAX_RETRIED)
    }
    scheduleRetry()
  }

  const track = (w: Write): Promise<void> => {
    const done = w.run().then(() => { warned = false }, err => keep([w], err, 'back'))
      .finally(() => inFlight.delete(done))
    inFlight.add(done)
    return done
  }

  // Oldest first, RETRY_BATCH at a time; a round ends at its first failed batch, which goes back
  // to the front of the queue with everything after it. One round at a time.
  const retryRound = async (): Promise<void> => {
    while (retry.length > 0) {
      const batch = retry.splice(0, RETRY_BATCH)
      const results = await Promise.allSettled(batch.map(w => w.run()))
      const failed = batch.filter((_, i) => results[i]!.status === 'rejected')
      if (failed.length > 0) {
        // a batch that landed anything means Postgres answers: the next round comes soon
        failedRounds = failed.length < batch.length ? 0 : failedRounds + 1
        keep(failed, (results.find(r => r.status === 'rejected') as PromiseRejectedResult).reason, 'front')
        return
      }
    }
    failedRounds = 0
    warned = false
  }
  const retryNow = (): Promise<void> => {
    retrying ??= retryRound().finally(() => { retrying = null })
    return retrying
  }

  function scheduleRetry (): void {
    if (retryTimer || closed) return
    const wait = Math.min(250 * 2 ** Math.min(failedRounds, 8), MAX_BACKOFF_MS)
    retryTimer = setTimeout(() => { retryTimer = null; retryNow().catch(() => {}) }, wait)
    retryTimer.unref()
  }

  // lists travel as one JSON parameter: the pool does not load Postgres' array types (db.ts)
  const seenBatch = (): Write | null => {
    if (lastSeen.size === 0) return null
    const rows = [...lastSeen].map(([id, { at, idle }]) => ({
      id, at: new Date(at).toISOString(), idle: idle === null ? null : new Date(idle).toISOString()
    }))
    lastSeen.clear()
    return {
      what: 'last-seen batch',
      // the idle expiry only moves forward, and never past the absolute one
      run: () => sql`
        update user_sessions s set last_seen_at = v.at,
          idle_expires_at = least(greatest(s.idle_expires_at, coalesce(v.idle, s.idle_expires_at)), s.expires_at)
        from jsonb_to_recordset(${sql.json(rows)}) as v(id text, at timestamptz, idle timestamptz)
        where s.public_id = v.id and s.last_seen_at < v.at`
    }
  }
  const flushSeen = async (): Promise<void> => {
    const batch = seenBatch()
    if (batch) await track(batch)
  }

  const timer = setInterval(() => { flushSeen().catch(() => {}) }, flushEveryMs)
  timer.unref()

  return {
    created: s => {
      track({
        what: 'insert',
        run: () => sql`
      insert into user_sessions (public_id, user_id, created_at, last_seen_at, expires_at, device, ip, user_agent)
      values (${s.publicId}, ${s.userId}, ${new Date(s.createdAt)}, ${new Date(s.createdAt)}, ${new Date(s.expiresAt)},
              ${sql.json({ ...s.device })}, ${normalizeIp(s.ip)}, ${s.userAgent.slice(0, 512)})
      on conflict (public_id) do update set
        created_at = excluded.created_at, expires_at = excluded.expires_at, device = excluded.device,
        ip = excluded.ip, user_agent = excluded.user_agent,
        last_seen_at = greatest(user_sessions.last_seen_at, excluded.last_seen_at)`
      })
    },
    revoked: (userId, publicIds, reason) => {
      if (publicIds.length === 0) return
      track({
        what: 'revoke',
        run: () => sql`
        insert into user_sessions (public_id, user_id, expires_at, revoked_at, revoked_reason)
        select id, ${userId}, now(), now(), ${reason} from jsonb_array_elements_text(${sql.json(publicIds)}) as id
        on conflict (public_id) do update set revoked_at = now(), revoked_reason = excluded.revoked_reason
        where user_sessions.revoked_at is null`
      })
    },
    seen: (publicId, at, idleExpiresAt) => { lastSeen.set(publicId, { at, idle: idleExpiresAt ?? null }) },
    get pending () { return retry.length + inFlight.size + (lastSeen.size > 0 ? 1 : 0) + (retrying ? 1 : 0) },
    flush: async () => {
      await flushSeen()
      await retryNow()
      await Promise.all(inFlight)
    },
    close: async () => {
      closed = true
      clearInterval(timer)
      if (retryTimer) clearTimeout(retryTimer)
      await flushSeen()
      await Promise.all(inFlight)
      await retryNow() // one last try for what failed before
      if (retry.length > 0 || dropped > 0) log.error({ notWritten: retry.length + dropped }, 'session mirror: writes lost at close')
      retry = []
    }
  }
}
