// How the bench runs the server: its environment, the bench's own database and Redis prefix,
// and the Config parsed from that same environment, so the seeders write exactly the keys,
// timeouts and secrets the server reads.
import { randomBytes } from 'node:crypto'
import { parseConfig, type Config, type Env } from '../../src/config/config.js'

/** sent on every cookie-bound state change (DELETE of a session); the server allows it */
export const ORIGIN = 'http://localhost:3000'
/** sessions are created with this agent and 127.0.0.1, so no request looks like an anomaly */
export const USER_AGENT = 'hallpass-bench/1.0'
export const BENCH_IP = '127.0.0.1'
export const PASSWORD = 'bench-password-2026-long-enough'

const DEFAULT_APP_URL = 'postgres://hallpass_app@127.0.0.1:5432/hallpass'
const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/hallpass'

export interface BenchEnv {
  /** the bench's Redis key prefix: `<database>:` (removed at the start and end of a run) */
  keyPrefix: string
  /** the server's environment without PORT (each start adds its own) */
  server: Env
  config: Config
  adminUrl: string
  redisUrl: string
  /** secret of the @fastify/session peer's signed cookies */
  fastifySessionSecret: string
}

/** the same server and credentials, another database */
function withDatabase (url: string, database: string): string {
  const u = new URL(url)
  u.pathname = '/' + database
  return u.toString()
}

/**
 * The bench's own database: the configured one's name + `_bench` (hallpass → hallpass_bench), so
 * two checkouts with their own databases never share a bench database or a Redis prefix.
 */
function benchDatabase (): string {
  const name = decodeURIComponent(new URL(process.env.DATABASE_URL ?? DEFAULT_APP_URL).pathname.slice(1)) || 'hallpass'
  return name.endsWith('_bench') ? name : `${name}_bench`
}

export function benchEnv (): BenchEnv {
  const database = benchDatabase()
  const keyPrefix = `${database}:`
  const adminUrl = withDatabase(process.env.DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL, database)
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const server: Env = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    REDIS_URL: redisUrl,
    REDIS_CLUSTER_NODES: '',
    REDIS_KEY_PREFIX: keyPrefix,
    DATABASE_URL: withDatabase(process.env.DATABASE_URL ?? DEFAULT_APP_URL, database),
    DATABASE_ADMIN_URL: adminUrl,
    MIGRATE_ON_START: 'false',
    // fresh per run: tokens signed by the bench are valid only for this run's servers
    JWT_ACCESS_SECRET: randomBytes(48).toString('base64url'),
    // outlives a full run, so no token seeded at the start expires mid-scenario
    JWT_ACCESS_TTL: '2h',
    // plain http on loopback: the cookie is `sid`; autocannon sends the header either way
    COOKIE_SECURE: 'false',
    MAX_SESSIONS_PER_USER: '100',
    // the storm logs in from one IP; the limiter still runs (one Redis call), it never trips
    RATE_LIMIT_LOGIN: '1000000/1m',
    RATE_LIMIT_REGISTER: '1000000/1m',
    RATE_LIMIT_REFRESH: '1000000/1m',
    ALLOWED_ORIGINS: ORIGIN
  }
  const { config } = parseConfig({ ...server, PORT: '3000' })
  return { keyPrefix, server, config, adminUrl, redisUrl, fastifySessionSecret: randomBytes(48).toString('base64url') }
}
