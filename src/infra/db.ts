// The Postgres pool, connected as the app role (no BYPASSRLS, owns nothing). Every query
// on a user's financial data goes through asUser, which makes the RLS context the first
// statement of the transaction; the context is transaction-local, so a pooled connection
// never carries one user into the next request.
import postgres from 'postgres'
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

export type Sql = postgres.Sql
export type Tx = postgres.TransactionSql
export type Queryable = postgres.Sql | postgres.TransactionSql

/** who the database should act for; only these two values reach set_config */
export interface DbActor {
  userId: string
  role: 'user' | 'admin'
}

export interface Db {
  sql: Sql
  /** runs fn in one transaction whose first statement sets app.user_id and app.role */
  asUser: <T>(actor: DbActor, fn: (tx: Tx) => Promise<T>) => Promise<T>
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

export function createDb (sql: Sql): Db {
  return {
    sql,
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
