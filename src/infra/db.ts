// The Postgres pool, connected as the app role (no BYPASSRLS, owns nothing). Every query
// on a user's financial data sets its own RLS context: db.readAsUser for a read (one
// statement), db.asUser for a unit of work (one transaction, context first). The context
// is transaction-local, so a pooled connection never carries one user into the next request.
import postgres from 'postgres'
import fp from 'fastify-plugin'
import type { Config } from '../config/config.js'
import { createDbGuard, type PoolStats } from './db-guard.js'

export type Sql = postgres.Sql
export type Tx = postgres.TransactionSql
export type Queryable = postgres.Sql | postgres.TransactionSql
/** builds the fragment that db.readAsUser runs; never awaited on its own */
export type ReadSql = postgres.Sql

/** who the database should act for; only these two values reach set_config */
export interface DbActor {
  userId: string
  role: 'user' | 'admin'
}

export interface Db {
  sql: Sql
  /** runs fn in one transaction whose first statement sets app.user_id and app.role */
  asUser: <T>(actor: DbActor, fn: (tx: Tx) => Promise<T>) => Promise<T>
  /**
   * runs one read as ONE statement that sets its own RLS context (see withUserContext);
   * `build` returns a SELECT fragment and must not run it
   */
  readAsUser: <T extends readonly object[]>(actor: DbActor, build: (q: ReadSql) => postgres.PendingQuery<T>) => Promise<T>
  /** connections in use and waiting (counted here: postgres.js has no pool counters), breaker state */
  poolStats: () => PoolStats
  /**
   * `select 1` on a connection of its own, outside the pool and its breaker: a saturated pool
   * or a table lock does not delay it (readiness and the postgres_up gauge use it)
   */
  ping: (timeoutMs: number) => Promise<void>
}

/** the server's address for messages: host:port, never the credentials */
export function postgresAddress (url: string): string {
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '5432'}`
  } catch {
    return 'the configured address'
  }
}

// Reconnect attempts after a failure: 50 ms doubling to 500 ms, with jitter so pods do not
// retry in step. postgres.js's default grows to 20 s, and a query queued meanwhile waits for it.
const RECONNECT_MAX_S = 0.5
function reconnectBackoff (retries: number): number {
  return Math.min(RECONNECT_MAX_S, 0.05 * 2 ** retries) * (0.5 + Math.random() / 2)
}

export function createSql (url: string, opts: { max: number; statementTimeoutMs: number; connectTimeoutS?: number }): Sql {
  return postgres(url, {
    max: opts.max,
    idle_timeout: 30,
    connect_timeout: opts.connectTimeoutS ?? 2,
    max_lifetime: 60 * 30,
    backoff: reconnectBackoff,
    // postgres.js 3.4 looks up array types on every new connection without awaiting it: a
    // server that goes away during that lookup becomes an unhandled rejection, which ends the
    // process. Without it postgres.js sends a JS array parameter as plain text, which Postgres
    // refuses ("malformed array literal"): no column we read is an array, and lists are sent as
    // one JSON parameter (sql.json with jsonb_array_elements_text or jsonb_to_recordset).
    fetch_types: false,
    onnotice: () => {},
    connection: {
      application_name: 'hallpass',
      statement_timeout: opts.statementTimeoutMs
    }
  })
}

/**
 * The read as one statement: the materialized CTE sets the context, and the LATERAL
 * reference to ctx.uid makes the query the inner side of a nested loop, so it runs only
 * after the context row exists and the policies' `(select app.current_user_id())` InitPlans
 * see the value. `offset 0` keeps the planner from flattening the subquery and dropping that
 * reference. If the order ever went wrong the policies would see no user: zero rows, never
 * someone else's. Run on the pool (not inside sql.begin), the statement is its own implicit
 * transaction, so `set_config(…, true)` ends with it and the connection carries no user
 * into its next query.
 */
export function withUserContext<T extends readonly object[]> (sql: Sql, actor: DbActor, query: postgres.PendingQuery<T>): postgres.PendingQuery<T> {
  return sql<T>`
    with ctx as materialized (
      select set_config('app.user_id', ${actor.userId}, true) as uid,
             set_config('app.role', ${actor.role}, true) as role
    )
    select q.* from ctx, lateral (select * from (${query}) as f where ctx.uid is not null offset 0) as q`
}

/** `extra` defaults to no counters and a ping on the pool itself (tests that need only the RLS helpers) */
export function createDb (sql: Sql, extra: Pick<Db, 'poolStats' | 'ping'> = {
  poolStats: () => ({ inUse: 0, waiting: 0, max: 0, breakerOpen: false }),
  ping: timeoutMs => pingWithin(sql, timeoutMs)
}): Db {
  return {
    sql,
    ...extra,
    readAsUser: (actor, build) => withUserContext(sql, actor, build(sql)),
    asUser: (actor, fn) => sql.begin(async tx => {
      // Sent at once, not awaited: postgres.js writes it to the connection before fn's
      // first query, so context and query share a round trip. If it fails, the
      // transaction is aborted and fn's queries fail too: nothing runs without context.
      const context = tx`select set_config('app.user_id', ${actor.userId}, true), set_config('app.role', ${actor.role}, true)`.execute()
      const [, result] = await Promise.all([context, fn(tx)])
      return result
    }) as Promise<never>
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    db: Db
  }
}

export const dbPlugin = fp<{ config: Config; sql?: Sql }>(async (app, opts) => {
  const { db: dbConfig } = opts.config
  const raw = opts.sql ?? createSql(dbConfig.url, { max: dbConfig.poolMax, statementTimeoutMs: dbConfig.statementTimeoutMs })
  const guard = createDbGuard({
    deadlineMs: dbConfig.queryTimeoutMs,
    poolMax: dbConfig.poolMax,
    // once per change of state, not once per refused request
    onStateChange: (open, reason) => {
      if (open) app.log.error({ reason, address: postgresAddress(dbConfig.url) }, 'postgres: circuit open, answering 503 at once until a probe succeeds')
      else app.log.info({ address: postgresAddress(dbConfig.url) }, 'postgres: circuit closed, the database answers again')
    }
  })
  // the probe's own single connection: statement_timeout keeps a stalled server from holding it
  const probe = createSql(dbConfig.url, { max: 1, statementTimeoutMs: 1000, connectTimeoutS: 1 })
  app.decorate('db', createDb(guard.wrap(raw), {
    poolStats: guard.stats,
    ping: timeoutMs => pingWithin(probe, timeoutMs)
  }))
  app.addHook('onClose', async () => {
    await probe.end({ timeout: 0 })
    if (!opts.sql) await raw.end({ timeout: 2 })
  })
}, { name: 'db' })

async function pingWithin (probe: Sql, timeoutMs: number): Promise<void> {
  const query = probe`select 1 as ok`
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      query,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'PROBE_TIMEOUT' })), timeoutMs)
      })
    ])
  } finally {
    clearTimeout(timer)
  }
}
