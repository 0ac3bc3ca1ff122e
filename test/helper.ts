// Builds the app the way the server does, against the real Redis and the real Postgres
// test database (the base database name + "_test", made from the migrations once before the
// suite). Each app gets its own Redis key prefix so test files can run in parallel.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import postgres from 'postgres'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { parseConfig, type Config, type Env } from '../src/config/config.js'
import { buildApp, type AppDeps } from '../src/app.js'
import { createRedis } from '../src/infra/redis.js'

const DEFAULT_DB = 'postgres://hallpass_app@127.0.0.1:5432/hallpass'
const DEFAULT_ADMIN_DB = 'postgres://postgres@127.0.0.1:5432/hallpass'

/** the same server and credentials, database name + "_test" */
function testDatabaseUrl (url: string): string {
  const u = new URL(url)
  const name = decodeURIComponent(u.pathname.slice(1)) || 'hallpass'
  u.pathname = '/' + (name.endsWith('_test') ? name : `${name}_test`)
  return u.toString()
}

export const TEST_DATABASE_URL = testDatabaseUrl(process.env.DATABASE_URL ?? DEFAULT_DB)
export const TEST_ADMIN_URL = testDatabaseUrl(process.env.DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_DB)
export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789'

export function uniquePrefix (): string {
  return `hallpass-test:${randomBytes(6).toString('hex')}:`
}

export function testEnv (overrides: Env = {}): Env {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    REDIS_URL: process.env.REDIS_URL,
    REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES,
    REDIS_KEY_PREFIX: uniquePrefix(),
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_ADMIN_URL: TEST_ADMIN_URL,
    PG_POOL_MAX: '4',
    JWT_ACCESS_SECRET: TEST_JWT_SECRET,
    // every file registers its users from 127.0.0.1; the tests of this limit set their own
    RATE_LIMIT_REGISTER: '1000/1h',
    // every file has a fresh key prefix over one shared database: a fresh prefix is no data loss
    SESSION_RESTORE_ON_START: 'false',
    ...overrides
  }
}

export function testConfig (overrides: Env = {}): Config {
  return parseConfig(testEnv(overrides)).config
}

export interface BuildOptions extends AppDeps {
  /** adds test-only routes or plugins to the app before it is ready */
  routes?: (app: FastifyInstance) => unknown
}

/** a built, ready app; closed and its Redis keys removed when the test ends */
export async function build (t: Test, overrides: Env = {}, opts: BuildOptions = {}): Promise<FastifyInstance> {
  const { routes, ...deps } = opts
  const config = testConfig(overrides)
  const app = await buildApp(config, deps)
  t.teardown(async () => {
    await app.close()
    await deleteRedisPrefix(config)
  })
  if (routes) await routes(app)
  await app.ready()
  return app
}

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/**
 * Polls `check` until it returns something truthy and returns that; throws once the deadline
 * passes. Each round yields to the event loop (setImmediate, then a timer), because
 * app.inject resolves in microtasks and a Redis subscriber is only read between them.
 */
export async function waitFor<T> (check: () => T | Promise<T>, { timeoutMs = 5000, intervalMs = 10, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as Truthy<T>
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`)
    await new Promise(resolve => setImmediate(resolve))
    await delay(intervalMs)
  }
}

/** lets wall-clock time pass, for tests whose subject is time itself (idle and absolute timeouts) */
export function delay (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

/** a TCP port nobody listens on right now (for servers a test starts) */
export function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    }).on('error', reject)
  })
}

export async function deleteRedisPrefix (config: Config): Promise<void> {
  const redis = createRedis(config.redis, { enableOfflineQueue: true, lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null })
  redis.on('error', () => {}) // a test that pointed Redis at a closed port leaves nothing to clean
  try {
    let cursor = '0'
    do {
      const [next, keys] = await (redis as import('ioredis').Redis).scan(cursor, 'MATCH', `${config.redis.keyPrefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await redis.unlink(...keys)
    } while (cursor !== '0')
  } catch {
    // a test that pointed Redis at a closed port leaves nothing to clean
  } finally {
    redis.disconnect()
  }
}

/** a postgres.js client on the test database; closed when the test ends */
function sqlClient (t: Test, url: string, max = 2): postgres.Sql {
  const sql = postgres(url, { max, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 5 }))
  return sql
}

export const adminSql = (t: Test): postgres.Sql => sqlClient(t, TEST_ADMIN_URL)
export const appSql = (t: Test, max = 2): postgres.Sql => sqlClient(t, TEST_DATABASE_URL, max)

export function uniqueEmail (tag = 'user'): string {
  return `${tag}-${randomBytes(6).toString('hex')}@example.test`
}
