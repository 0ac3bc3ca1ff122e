// The Postgres pool, connected as the app role (no BYPASSRLS, owns nothing). Every query
// on a user's financial data sets its own RLS context: db.readAsUser for a read (one
// statement), db.asUser for a unit of work (one transaction, context first). The context
// is transaction-local, so a pooled connection never carries one user into the next request.
import postgres from 'postgres'
import fp from 'fastify-plugin'
import type { Config } from '../config/config.js'

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
}

export function createSql (url: string, opts: { max: number; statementTimeoutMs: number }): Sql {
  return postgres(url, {
    max: opts.max,
    idle_timeout: 30,
    connect_timeout: 5,
    max_lifetime: 60 * 30,
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

export function createDb (sql: Sql): Db {
  return {
    sql,
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
  const sql = opts.sql ?? createSql(opts.config.db.url, { max: opts.config.db.poolMax, statementTimeoutMs: opts.config.db.statementTimeoutMs })
  app.decorate('db', createDb(sql))
  app.addHook('onClose', async () => {
    if (!opts.sql) await sql.end({ timeout: 5 })
  })
}, { name: 'db' })
