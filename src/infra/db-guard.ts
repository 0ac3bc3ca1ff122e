// Bounds on every Postgres call: a deadline per query and per transaction, a circuit breaker
// that answers at once while the database is known to be down, and the pool counters
// postgres.js does not have. The guard wraps the pool's `sql` (a Proxy), so every query of the
// house, whoever builds it, passes through here without changing a call site.
//
// Why by hand around postgres.js: it has no query deadline (statement_timeout only helps once a
// query reached a live server), it queues a query while it reconnects, and it exposes no pool
// counters. The breaker itself is cockatiel's.
import type postgres from 'postgres'
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel'
import { Errors } from '../core/errors.js'

/** a postgres.js query as it is at run time (PendingQuery's untyped internals used here) */
interface RunningQuery {
  /** the backend the query was written to; null while it waits for a connection */
  state: unknown
  executed: boolean
  strings: readonly string[]
  args: unknown[]
  handle: () => Promise<void>
  reject: (err: unknown) => void
  /** what cancel() calls; its promise is ours to handle (cancel() drops it, and it rejects when the server is unreachable) */
  canceller: ((q: RunningQuery) => Promise<void>) | null
  then: PromiseLike<unknown>['then']
}

export interface GuardOptions {
  /** the longest one query, or one transaction as a whole, may take */
  deadlineMs: number
  /** pool size, for the in-use / waiting split */
  poolMax: number
  /** consecutive dependency failures that open the breaker */
  breakAfter?: number
  /** how long the breaker stays open before one call probes the database */
  probeAfterMs?: number
  /** told when the breaker opens or closes (logged once per change, not per request) */
  onStateChange?: (open: boolean, reason: string | null) => void
}

export interface PoolStats {
  /** operations (queries, transactions, reserved connections) holding a connection */
  inUse: number
  /** operations started beyond the pool's size: they wait for a connection */
  waiting: number
  max: number
  breakerOpen: boolean
}

export interface DbGuard {
  /** the pool with every query and transaction bounded */
  wrap: (sql: postgres.Sql) => postgres.Sql
  stats: () => PoolStats
}

const DEFAULT_BREAK_AFTER = 5
const DEFAULT_PROBE_AFTER_MS = 1000

/**
 * a 503 DEPENDENCY_UNAVAILABLE whose `reason` (for the log) says what went wrong, tagged with its
 * dependency so the error handler logs it once per outage (core/dependency-log.ts), not per request
 */
function postgresUnavailable (reason: string, cause?: unknown): Error {
  const err = new Errors.DEPENDENCY_UNAVAILABLE() as Error & { reason?: string, dependency?: 'postgres' }
  err.reason = `postgres: ${reason}`
  err.dependency = 'postgres'
  if (cause !== undefined) err.cause = cause
  return err
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED'])

/**
 * true for a failure that says the database cannot serve (counted by the breaker): no
 * connection, a server going away or out of resources (SQLSTATE 08, 53, 57P), a cancelled
 * statement (57014, statement_timeout) and our own deadline. A constraint or data error is
 * an answer, and never opens the breaker.
 */
function isPostgresDown (err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown }
  if (e.code === 'DEPENDENCY_UNAVAILABLE') return true
  if (typeof e.code !== 'string') return false
  if (CONNECTION_CODES.has(e.code)) return true
  return e.name === 'PostgresError' && /^(08|53|57P|57014)/.test(e.code)
}

export function createDbGuard (opts: GuardOptions): DbGuard {
  const breakAfter = opts.breakAfter ?? DEFAULT_BREAK_AFTER
  const probeAfterMs = opts.probeAfterMs ?? DEFAULT_PROBE_AFTER_MS
  const breaker: CircuitBreakerPolicy = circuitBreaker(handleWhen(isPostgresDown), {
    halfOpenAfter: probeAfterMs,
    breaker: new ConsecutiveBreaker(breakAfter)
  })
  let active = 0
  // queries not yet written to a connection: dropped at once when the breaker opens
  const unsent = new Set<RunningQuery>()

  // told once per outage: a failed probe re-opens the breaker without a new "open" report
  let reportedOpen = false
  breaker.onBreak(() => {
    const reason = describeFailure(breaker.lastFailure)
    if (!reportedOpen) opts.onStateChange?.(true, reason)
    reportedOpen = true
    for (const q of unsent) if (q.state === null) abandon(q, postgresUnavailable(`circuit opened (${reason})`))
  })
  breaker.onReset(() => {
    reportedOpen = false
    opts.onStateChange?.(false, null)
  })

  // Half-open: one call probes and the others are refused at once (cockatiel would queue
  // them behind the probe). Open: cockatiel refuses, or lets the first call after
  // probeAfterMs through as the probe.
  const refusal = (): Error | null =>
    breaker.state === CircuitState.HalfOpen ? postgresUnavailable('circuit half-open, a probe is running') : null

  // Runs `work` under the breaker and the deadline. `onExpire` runs when the deadline passes
  // first; the returned promise then rejects with a 503.
  const guarded = async <T>(work: () => Promise<T>, onExpire: (err: Error) => void): Promise<T> => {
    const refused = refusal()
    if (refused) throw refused
    active++
    try {
      return await breaker.execute(() => withDeadline(work, opts.deadlineMs, onExpire))
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw postgresUnavailable('circuit open: the database is known to be down')
      throw err
    } finally {
      active--
    }
  }

  const guardQuery = (q: RunningQuery): void => {
    const handle = q.handle
    let started = false
    // postgres.js runs a query on its first then/catch/finally/execute (handle); a query
    // used as a fragment of another is never handled, so it is neither timed nor counted
    q.handle = function guardedHandle () {
      if (started) return handle.call(q)
      started = true
      unsent.add(q)
      guarded(async () => {
        handle.call(q).catch(() => {}) // its outcome is the query's own promise, awaited below
        try {
          return await new Promise((resolve, reject) => { q.then(resolve, reject) })
        } finally {
          unsent.delete(q)
        }
      }, err => abandon(q, err)).catch(err => {
        unsent.delete(q)
        if (!q.executed) q.executed = true // refused before it ran: postgres.js never sees it
        q.reject(err)
      })
      return Promise.resolve()
    }
  }

  // Inside a transaction: each query is remembered (the deadline cancels the one running),
  // and once the deadline passed no new query runs, so the work rolls back.
  const wrapTransactionSql = (tx: postgres.TransactionSql, expired: () => Error | null, onQuery: (q: RunningQuery) => void): postgres.TransactionSql =>
    new Proxy(tx, {
      apply (target, thisArg, args: unknown[]) {
        const q = Reflect.apply(target, thisArg, args) as RunningQuery
        if (!isTagged(args)) return q
        const over = expired()
        if (over) {
          q.executed = true
          q.reject(over)
        } else {
          onQuery(q)
        }
        return q
      }
    })

  const wrap = (sql: postgres.Sql): postgres.Sql => {
    const begin = (...args: unknown[]): Promise<unknown> => {
      const fn = args.pop() as (tx: postgres.TransactionSql) => unknown
      let expiredWith: Error | null = null
      let running: RunningQuery | null = null
      return guarded(
        () => (sql.begin as (...a: unknown[]) => Promise<unknown>)(...args, async (tx: postgres.TransactionSql) => {
          if (expiredWith) throw expiredWith // the caller already has its 503: do not start the work
          return await fn(wrapTransactionSql(tx, () => expiredWith, q => { running = q }))
        }),
        err => {
          expiredWith = err
          // a statement of a transaction is only cancelled, never rewritten: the rollback undoes it
          if (running) abandon(running, err, { rewrite: false })
        }
      )
    }
    const reserve = async (): Promise<postgres.ReservedSql> => {
      const refused = refusal()
      if (refused) throw refused
      active++
      let late = false
      const pending = sql.reserve()
      try {
        const reserved = await withDeadline(() => pending, opts.deadlineMs, () => { late = true })
        const release = reserved.release.bind(reserved)
        let released = false
        reserved.release = () => {
          if (!released) { released = true; active-- }
          release()
        }
        return reserved
      } catch (err) {
        active--
        // a connection that arrives after its caller gave up goes straight back
        if (late) pending.then(r => r.release(), () => {})
        throw err
      }
    }
    const unsafe = (...args: Parameters<postgres.Sql['unsafe']>) => {
      const q = sql.unsafe(...args)
      guardQuery(q as unknown as RunningQuery)
      return q
    }
    return new Proxy(sql, {
      apply (target, thisArg, args: unknown[]) {
        const q = Reflect.apply(target, thisArg, args) as unknown
        if (isTagged(args)) guardQuery(q as RunningQuery)
        return q
      },
      get (target, prop, receiver) {
        if (prop === 'begin') return begin
        if (prop === 'reserve') return reserve
        if (prop === 'unsafe') return unsafe
        return Reflect.get(target, prop, receiver)
      }
    }) as postgres.Sql
  }

  return {
    wrap,
    stats: () => ({
      inUse: Math.min(active, opts.poolMax),
      waiting: Math.max(0, active - opts.poolMax),
      max: opts.poolMax,
      breakerOpen: breaker.state !== CircuitState.Closed
    })
  }
}

function isTagged (args: unknown[]): boolean {
  const first = args[0] as { raw?: unknown } | undefined
  return Array.isArray(first) && Array.isArray(first.raw)
}

/** runs work; if it has not settled within ms, calls onExpire and rejects with a 503 */
function withDeadline<T> (work: () => Promise<T>, ms: number, onExpire: (err: Error) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = postgresUnavailable(`no answer within ${ms} ms`)
      onExpire(err)
      reject(err)
    }, ms)
    work().then(resolve, reject).finally(() => clearTimeout(timer))
  })
}

/**
 * Gives up on a query whose caller already has its answer. Written to a server: a cancel
 * request stops it there. Not written yet: it is turned into `select 1` rather than
 * cancelled, because postgres.js 3.4 leaves a connection stuck in "connecting" when the
 * query it was opened for is cancelled; as `select 1` it costs nothing when it finally runs,
 * so the work of clients that gave up never delays the recovery.
 */
function abandon (q: RunningQuery, err: Error, { rewrite = true }: { rewrite?: boolean } = {}): void {
  if (q.state !== null) {
    const cancel = q.canceller
    q.canceller = null
    cancel?.(q).catch(() => {}) // best effort: the server may be unreachable
  } else if (rewrite) {
    q.strings = ['select 1']
    q.args = []
  }
  q.reject(err)
}

function describeFailure (failure: unknown): string {
  const error = (failure as { error?: unknown } | undefined)?.error as { code?: unknown; message?: unknown; reason?: unknown } | undefined
  if (!error) return 'unknown'
  if (typeof error.reason === 'string') return error.reason
  return typeof error.code === 'string' ? `${error.code}: ${String(error.message)}` : String(error.message)
}
