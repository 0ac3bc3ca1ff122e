// Audit rows written off the response path: record() only queues, a timer (or a full batch)
// writes the queue with one INSERT, and close flushes before the db plugin ends the pool.
// A Postgres outage keeps rows for retry up to a bound, then drops the oldest; it never
// slows down or fails the login that recorded them.
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import type postgres from 'postgres'
import type { Sql } from '../infra/db.js'
import { normalizeIp } from '../core/request-context.js'
import { UUID_RE } from '../core/schemas.js'
import { countDropped, trackAuditQueue } from './audit-metrics.js'

type AuditType =
  | 'LOGIN_SUCCESS' | 'LOGIN_FAILURE' | 'LOGOUT' | 'SESSION_REVOKED' | 'SESSIONS_REVOKED_ALL'
  | 'SESSION_EVICTED' | 'PASSWORD_CHANGED' | 'SESSION_ANOMALY' | 'USER_REGISTERED'
  | 'ADMIN_SESSIONS_REVOKED' | 'ADMIN_USER_DISABLED' | 'ADMIN_USER_ENABLED' | 'ADMIN_PORTFOLIOS_READ'
  | 'TOKEN_REUSE_ATTACK' | 'ADMIN_ROLE_CHANGED' | 'ADMIN_READ' | 'REGISTER_EMAIL_TAKEN' | 'AUTO_ROLLBACK'
  // tallied (see AuditLog.tally): one row per source and minute, details.count
  | 'LOGIN_BACKOFF_REFUSED' | 'CSRF_REFUSED' | 'RATE_LIMITED'

export interface AuditEvent {
  type: AuditType
  userId?: string | null
  sessionPublicId?: string | null
  ip?: string | null
  userAgent?: string | null
  details?: Record<string, unknown>
}

export interface AuditLog {
  /** queues the row; never throws, never waits for Postgres */
  record: (event: AuditEvent) => void
  /**
   * counts an event that can come in floods (refusals): at most one row per type, source
   * (ip) and user per minute, written when the minute ends with `details.count`; the first
   * event's details are kept. No database work per call.
   */
  tally: (event: AuditEvent) => void
  /** writes everything queued so far; rejects if Postgres refuses (the rows stay queued) */
  flush: () => Promise<void>
}

export interface AuditOptions {
  /** how often the queue is written */
  flushIntervalMs: number
  /** a queue this long is written at once, without waiting for the timer */
  flushAtRows: number
  /** rows per INSERT */
  rowsPerInsert: number
  /** rows kept while Postgres is down; beyond it the oldest are dropped */
  maxQueued: number
  /** the longest wait between retries after a failed write */
  maxBackoffMs: number
  /** how long close waits for the last write */
  closeTimeoutMs: number
}

const DEFAULT_AUDIT_OPTIONS: AuditOptions = {
  flushIntervalMs: 250,
  flushAtRows: 200,
  rowsPerInsert: 1000,
  maxQueued: 10_000,
  maxBackoffMs: 30_000,
  closeTimeoutMs: 3_000
}

/** the audit log plus what its owner needs: close it, and see how much is waiting */
export interface AuditWriter extends AuditLog {
  /** stops the timer and writes what is queued, waiting at most closeTimeoutMs */
  close: () => Promise<void>
  /** rows queued or being written */
  pending: () => number
}

const USER_AGENT_MAX = 512
const DETAILS_MAX_CHARS = 8_192
const DROP_WARN_EVERY_MS = 10_000
const LOST_ROWS_LOGGED = 1_000

/** the columns of audit_logs, named as jsonb_to_recordset reads them */
interface AuditRow {
  /** made when the event happened: a batch written twice inserts each row once */
  event_id: string
  type: string
  user_id: string | null
  session_public_id: string | null
  ip: string | null
  user_agent: string | null
  details: Record<string, unknown>
  created_at: string
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

// Postgres text and jsonb refuse NUL and unpaired surrogates: one such value would fail the
// whole batch on every retry, so they are cleaned here, once, when the row is queued.
function cleanText (s: string): string {
  return s.replace(/\u0000/g, '').replace(LONE_SURROGATE, '\uFFFD') // eslint-disable-line no-control-regex -- NUL is the character to remove
}

function optionalText (s: string | null | undefined, max?: number): string | null {
  if (typeof s !== 'string') return null
  return cleanText(max === undefined ? s : s.slice(0, max))
}

// A snapshot, so a caller mutating its object later cannot change the row; anything
// JSON cannot carry (a cycle, a BigInt) or that is too large becomes a marker instead.
function snapshotDetails (details: unknown): Record<string, unknown> {
  if (details === undefined || details === null) return {}
  let text: string | undefined
  try {
    text = JSON.stringify(details, (_key, value: unknown) => {
      if (typeof value === 'string') return cleanText(value)
      if (typeof value === 'bigint') return value.toString()
      return value
    })
  } catch {
    return { unserializable: true }
  }
  if (text === undefined || !text.startsWith('{')) return { value: text ?? null }
  if (text.length > DETAILS_MAX_CHARS) return { truncated: true, chars: text.length }
  return JSON.parse(text) as Record<string, unknown>
}

function toRow (event: AuditEvent): AuditRow {
  const details = snapshotDetails(event.details)
  let userId: string | null = null
  if (typeof event.userId === 'string') {
    if (UUID_RE.test(event.userId)) userId = event.userId
    else details.invalidUserId = cleanText(event.userId.slice(0, 100)) // keep the trail, not the bad cast
  }
  return {
    event_id: randomUUID(),
    type: cleanText(String(event.type)),
    user_id: userId,
    session_public_id: optionalText(event.sessionPublicId),
    ip: normalizeIp(event.ip),
    user_agent: optionalText(event.userAgent, USER_AGENT_MAX),
    details,
    created_at: new Date().toISOString() // when it happened, not when a retry wrote it
  }
}

// One statement text whatever the batch size: one prepared statement per connection and a
// single parameter, where the sql(rows, …) helper makes a new statement (and 7 parameters
// a row) for every batch length.
function insertRows (sql: Sql, rows: AuditRow[]): Promise<unknown> {
  return sql`
    insert into audit_logs (event_id, type, user_id, session_public_id, ip, user_agent, details, created_at)
    select r.event_id, r.type, r.user_id, r.session_public_id, r.ip, r.user_agent, coalesce(r.details, '{}'), r.created_at
    from jsonb_to_recordset(${sql.json(rows as unknown as postgres.JSONValue)}) as r(
      event_id uuid, type text, user_id uuid, session_public_id text, ip inet, user_agent text, details jsonb, created_at timestamptz
    )
    on conflict (event_id) do nothing`.execute()
}

// data (22) and integrity (23) errors: the same batch will fail the same way on every retry
function isBadData (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' && /^2[23]/.test(code)
}

// only the code and message: a postgres.js error may also carry the query and its parameters
function describe (err: unknown): { code?: string; message: string } {
  const e = err as { code?: unknown; message?: unknown }
  return { ...(typeof e.code === 'string' ? { code: e.code } : {}), message: String(e.message ?? err) }
}

export function createAuditLog (sql: Sql, log: FastifyBaseLogger, options: Partial<AuditOptions> = {}): AuditWriter {
  const opts = { ...DEFAULT_AUDIT_OPTIONS, ...options }
  let queue: AuditRow[] = []
  let inFlight: AuditRow[] = []
  let writing = false
  let closed = false
  let failures = 0
  let retryAt = 0
  let dropped = 0
  let lastDropWarn = 0

  const reportDrops = (): void => {
    if (dropped === 0 || Date.now() - lastDropWarn < DROP_WARN_EVERY_MS) return
    log.warn({ dropped, maxQueued: opts.maxQueued }, 'audit: queue full while Postgres was failing; dropped the oldest rows')
    dropped = 0
    lastDropWarn = Date.now()
  }

  const trim = (): void => {
    const over = queue.length - opts.maxQueued
    if (over > 0) {
      queue.splice(0, over)
      dropped += over
      countDropped('queue_full', over)
    }
  }

  // a batch that Postgres refuses for its data: write its rows one by one, drop the bad ones
  const salvage = async (): Promise<void> => {
    while (inFlight.length > 0) {
      const row = inFlight[0]!
      try {
        await insertRows(sql, [row])
      } catch (err) {
        if (!isBadData(err)) throw err // inFlight now holds only the rows not yet written
        log.error({ err: describe(err), type: row.type, userId: row.user_id }, 'audit: row refused by Postgres; dropped')
        countDropped('refused')
      }
      inFlight = inFlight.slice(1)
    }
  }

  const drain = async (): Promise<void> => {
    writing = true
    try {
      reportDrops()
      while (queue.length > 0) {
        inFlight = queue.splice(0, opts.rowsPerInsert)
        try {
          try {
            await insertRows(sql, inFlight)
          } catch (err) {
            if (!isBadData(err)) throw err
            await salvage()
          }
        } catch (err) {
          // keep them, oldest first, for the next attempt
          queue = inFlight.concat(queue)
          trim()
          failures++
          const backoff = Math.min(opts.maxBackoffMs, opts.flushIntervalMs * 2 ** failures)
          retryAt = Date.now() + backoff
          log.error({ err: describe(err), queued: queue.length, retryInMs: backoff }, 'audit: write failed; rows kept for retry')
          throw err
        } finally {
          inFlight = []
        }
      }
      failures = 0
      retryAt = 0
    } finally {
      writing = false
    }
  }

  // Flushes run one after another, so two never take (and insert) the same rows. Callers
  // that arrive while one is waiting to start share it: it takes all that is queued when it
  // starts, and a burst of calls cannot pile up a chain of retries behind a dead Postgres.
  let chain: Promise<void> = Promise.resolve()
  let waiting: Promise<void> | null = null
  const flush = (): Promise<void> => {
    if (waiting) return waiting
    const run = chain.then(() => {
      waiting = null
      return drain()
    })
    waiting = run
    chain = run.catch(() => {})
    return run
  }

  const flushInBackground = (): void => {
    if (writing || waiting || closed || Date.now() < retryAt) return
    flush().catch(() => {}) // drain has logged it
  }

  const timer = setInterval(() => {
    reportDrops()
    if (tallies.size > 0) closeTallies(false)
    if (queue.length > 0) flushInBackground()
  }, opts.flushIntervalMs)
  timer.unref() // a pending audit write never keeps the process alive; close flushes

  // open tallies of the current minute, keyed by type, ip and user
  const tallies = new Map<string, { row: AuditRow; count: number; minute: number }>()
  const TALLY_WINDOW_MS = 60_000
  const closeTallies = (all: boolean): void => {
    const minute = Math.floor(Date.now() / TALLY_WINDOW_MS)
    for (const [key, t] of tallies) {
      if (!all && t.minute === minute) continue
      tallies.delete(key)
      t.row.details = { ...t.row.details, count: t.count, minute: new Date(t.minute * TALLY_WINDOW_MS).toISOString() }
      queue.push(t.row)
    }
    trim()
  }
  const tally = (event: AuditEvent): void => {
    try {
      if (closed) return record(event)
      const row = toRow(event)
      const minute = Math.floor(Date.now() / TALLY_WINDOW_MS)
      const key = `${row.type}|${row.ip ?? ''}|${row.user_id ?? ''}|${minute}`
      const open = tallies.get(key)
      if (open) open.count++
      else if (tallies.size < opts.maxQueued) tallies.set(key, { row, count: 1, minute })
      else countDropped('queue_full')
    } catch (err) {
      log.error({ err: describe(err) }, 'audit: could not tally a row')
    }
  }

  const record = (event: AuditEvent): void => {
    try {
      const row = toRow(event)
      if (closed) {
        // nothing will write it any more: the log line is the only trail left
        log.error({ row }, 'audit: row recorded after close; not written')
        countDropped('after_close')
        return
      }
      queue.push(row)
      trim()
      if (queue.length >= opts.flushAtRows) flushInBackground()
    } catch (err) {
      log.error({ err: describe(err) }, 'audit: could not queue a row')
    }
  }

  const close = async (): Promise<void> => {
    if (closed) return
    closeTallies(true)
    closed = true
    clearInterval(timer)
    untrackQueue()
    if (queue.length === 0 && !writing) return
    let timeout: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      flush().then(() => 'written' as const, () => 'failed' as const),
      new Promise<'timed out'>(resolve => { timeout = setTimeout(resolve, opts.closeTimeoutMs, 'timed out') })
    ])
    clearTimeout(timeout)
    if (outcome === 'written') return
    const lost = inFlight.concat(queue)
    countDropped('shutdown', lost.length)
    log.error({
      outcome,
      lost: lost.length,
      dropped,
      rows: lost.slice(0, LOST_ROWS_LOGGED)
    }, 'audit: rows not written at shutdown')
  }

  // an explicit flush (tests, shutdown) writes the open tallies too
  const flushAll = (): Promise<void> => {
    closeTallies(true)
    return flush()
  }

  const pending = (): number => queue.length + inFlight.length + tallies.size
  const untrackQueue = trackAuditQueue({ pending })
  return { record, tally, flush: flushAll, close, pending }
}
