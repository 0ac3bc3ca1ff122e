// Every setting comes from the environment through one TypeBox schema. A bad value is
// reported per variable (name, what is wrong, the expected form) and never echoed when
// it is a secret; the caller prints the lines and exits 1 before listening.
import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { Type, type TString } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { parseDuration, DURATION_PATTERN } from './duration.js'

const BOOL = '^(true|false|1|0|yes|no|on|off)$'
const INT = '^[0-9]+$'
const RATE = '^[0-9]+/[0-9]+(ms|s|m|h|d)?$'
const SYMBOLS = '^[A-Z0-9.]{1,10}(,[A-Z0-9.]{1,10})*$'
const DEFAULT_SYMBOLS = 'AAPL,MSFT,GOOGL,AMZN,NVDA,META,TSLA,BRK.B,JPM,V,JNJ,WMT,PG,XOM,MA,HD,KO,PEP,DIS,NFLX'

interface VarOptions {
  default?: string
  pattern?: string
  /** the expected form, shown when the value is bad */
  form: string
  /** never print the value */
  secret?: boolean
}

function v (opts: VarOptions): TString {
  return Type.String({
    ...(opts.default !== undefined ? { default: opts.default } : {}),
    ...(opts.pattern ? { pattern: opts.pattern } : {}),
    description: opts.form,
    ...(opts.secret ? { 'x-secret': true } : {})
  })
}

export const EnvSchema = Type.Object({
  NODE_ENV: v({ default: 'development', pattern: '^(development|production|test)$', form: 'development, production or test' }),
  PORT: v({ default: '3000', pattern: INT, form: 'a TCP port from 1 to 65535' }),
  HOST: v({ default: '127.0.0.1', pattern: '^\\S+$', form: 'an interface address such as 0.0.0.0 or 127.0.0.1' }),
  LOG_LEVEL: v({ default: 'info', pattern: '^(fatal|error|warn|info|debug|trace|silent)$', form: 'fatal, error, warn, info, debug, trace or silent' }),
  TRUST_PROXY: v({ default: 'false', pattern: '^(true|false|yes|no|on|off|[0-9]+|[0-9A-Fa-f:.]+(/[0-9]+)?(,[0-9A-Fa-f:.]+(/[0-9]+)?)*)$', form: 'false, the number of proxies in front that append to X-Forwarded-For (such as 1), or their addresses/CIDRs separated by commas (true, trusting every hop, is refused in production)' }),

  REDIS_URL: v({ default: 'redis://127.0.0.1:6379', pattern: '^rediss?://', form: 'redis://[user:pass@]host:port[/db]' }),
  REDIS_CLUSTER_NODES: v({ default: '', pattern: '^$|^[^,\\s]+:[0-9]+(,[^,\\s]+:[0-9]+)*$', form: 'empty, or host:port[,host:port…] of Redis Cluster seed nodes' }),
  REDIS_KEY_PREFIX: v({ default: 'hallpass:', pattern: '^[A-Za-z0-9:_.-]{0,64}$', form: 'up to 64 of A-Z a-z 0-9 : _ . -' }),

  DATABASE_URL: v({ default: 'postgres://hallpass_app@127.0.0.1:5432/hallpass', pattern: '^postgres(ql)?://', form: 'postgres://user[:pass]@host:port/db (the hallpass_app role)', secret: true }),
  DATABASE_ADMIN_URL: v({ default: 'postgres://postgres@127.0.0.1:5432/hallpass', pattern: '^postgres(ql)?://', form: 'postgres://user[:pass]@host:port/db (owner of the schema, for migrations)', secret: true }),
  PG_POOL_MAX: v({ default: '10', pattern: INT, form: 'an integer from 1 to 200' }),
  PG_STATEMENT_TIMEOUT: v({ default: '5s', pattern: DURATION_PATTERN, form: 'a duration such as 5000ms, 5s or 1m' }),
  PG_QUERY_TIMEOUT: v({ default: '2s', pattern: DURATION_PATTERN, form: 'the longest a query or a transaction may take, waiting for a connection included, such as 2s (then it is cancelled and answered 503)' }),
  MIGRATE_ON_START: v({ default: '', pattern: '^$|' + BOOL, form: 'true or false (default: true outside production)' }),
  DOCS_ENABLED: v({ default: '', pattern: '^$|' + BOOL, form: 'true or false (default: true outside production): the API reference at /docs and its document at /docs/json' }),

  SESSION_IDLE_TIMEOUT: v({ default: '24h', pattern: DURATION_PATTERN, form: 'a duration such as 900, 15m, 24h or 30d (seconds when bare)' }),
  SESSION_ABSOLUTE_TIMEOUT: v({ default: '30d', pattern: DURATION_PATTERN, form: 'a duration such as 900, 15m, 24h or 30d (seconds when bare)' }),
  SESSION_TOUCH_INTERVAL: v({ default: '60s', pattern: DURATION_PATTERN, form: 'a duration such as 30s or 1m (seconds when bare)' }),
  MAX_SESSIONS_PER_USER: v({ default: '5', pattern: INT, form: 'an integer from 1 to 1000' }),
  SESSION_CACHE_TTL: v({ default: '5s', pattern: DURATION_PATTERN, form: 'how long a validated session may be served from process memory, such as 1s or 500ms; 0 turns the near cache off' }),
  SESSION_RESTORE_ON_START: v({ default: 'true', pattern: BOOL, form: 'true or false: an instance that finds Redis without its sentinel key at start restores the live sessions from Postgres' }),
  SESSION_RECORD_FORMAT: v({ default: 'string', pattern: '^(string|hash)$', form: 'string or hash: how new session records are written in Redis; hash only while instances of a build before the string record still serve (a rolling upgrade)' }),
  SESSION_CACHE_MAX: v({ default: '100000', pattern: INT, form: 'sessions kept in the near cache, 1 to 10000000' }),
  COOKIE_SECURE: v({ default: 'auto', pattern: '^auto$|' + BOOL, form: 'auto (Secure in production), true or false' }),

  JWT_ACCESS_SECRET: v({ default: '', form: 'at least 32 bytes of random text', secret: true }),
  JWT_ACCESS_TTL: v({ default: '15m', pattern: DURATION_PATTERN, form: 'a duration such as 900 or 15m' }),
  JWT_ISSUER: v({ default: 'hallpass', pattern: '^\\S+$', form: 'a non-empty string without spaces' }),
  JWT_AUDIENCE: v({ default: 'hallpass-api', pattern: '^\\S+$', form: 'a non-empty string without spaces' }),
  REFRESH_TOKEN_TTL: v({ default: '30d', pattern: DURATION_PATTERN, form: 'a duration such as 30d' }),
  REFRESH_REUSE_GRACE: v({ default: '10s', pattern: DURATION_PATTERN, form: 'a duration such as 10s' }),

  NEW_AUTH_ENABLED: v({ default: 'true', pattern: BOOL, form: 'true or false' }),
  NEW_AUTH_PERCENTAGE: v({ default: '100', pattern: INT, form: 'an integer from 0 to 100' }),
  ROLLBACK_MODE: v({ default: 'false', pattern: BOOL, form: 'true or false' }),
  LEGACY_AUTH_ENABLED: v({ default: 'true', pattern: BOOL, form: 'true or false: false retires legacy JWTs (every login gets a session; Bearer and refresh tokens are refused, nothing is deleted)' }),
  SECURITY_LOCKDOWN: v({ default: 'false', pattern: BOOL, form: 'true or false' }),

  RATE_LIMIT_LOGIN: v({ default: '100/15m', pattern: RATE, form: 'max/window such as 100/15m (per client IP, shared by all instances)' }),
  RATE_LIMIT_REFRESH: v({ default: '50/15m', pattern: RATE, form: 'max/window such as 50/15m' }),
  RATE_LIMIT_REGISTER: v({ default: '10/1h', pattern: RATE, form: 'max/window such as 10/1h (per client IP: registration tells whether an email exists)' }),
  LOGIN_BACKOFF_THRESHOLD: v({ default: '5', pattern: INT, form: 'failed logins of one account before it is slowed down, 1 to 1000' }),
  LOGIN_BACKOFF_MAX: v({ default: '15m', pattern: DURATION_PATTERN, form: 'the longest lockout of one account, such as 15m' }),

  ALLOWED_ORIGINS: v({ default: '', pattern: '^$|^https?://[^,\\s/]+(,https?://[^,\\s/]+)*$', form: 'comma-separated origins such as https://app.example.com (scheme://host[:port], no path); empty = http://localhost:PORT, http://127.0.0.1:PORT and http://HOST:PORT' }),

  PRICE_SYMBOLS: v({ default: DEFAULT_SYMBOLS, pattern: SYMBOLS, form: 'comma-separated tickers of 1 to 10 of A-Z 0-9 . (at most 500)' }),
  PRICE_TICK_MS: v({ default: '250', pattern: INT, form: 'milliseconds between price ticks, 5 to 60000' }),
  PRICE_LEADER_TTL: v({ default: '3s', pattern: DURATION_PATTERN, form: 'how long the publishing instance holds its lock without renewing it, such as 3s (another takes over after it)' }),
  WS_MAX_PER_USER: v({ default: '10', pattern: INT, form: 'open price sockets per user across all instances, 1 to 1000' }),
  WS_PING_INTERVAL: v({ default: '30s', pattern: DURATION_PATTERN, form: 'how often each socket is pinged, such as 30s (two missed pongs drop it)' }),
  WS_SWEEP_INTERVAL: v({ default: '60s', pattern: DURATION_PATTERN, form: 'how often every socket is re-validated as a safety net, such as 60s' }),
  WS_AUTH_TIMEOUT: v({ default: '5s', pattern: DURATION_PATTERN, form: 'how long a socket without a cookie has to send its auth message, such as 5s' }),
  WS_SLOW_BUFFER: v({ default: '65536', pattern: INT, form: 'bytes queued to one socket above which it only gets the latest price per symbol, 1024 to 16777216' }),
  METRICS_PORT: v({ default: '', pattern: '^$|' + INT, form: 'empty (no metrics listener), or the TCP port of the separate /metrics listener, such as 9464' }),
  METRICS_HOST: v({ default: '0.0.0.0', pattern: '^\\S+$', form: 'the interface the metrics listener binds, such as 0.0.0.0' }),
  AUTO_ROLLBACK: v({ default: 'false', pattern: BOOL, form: 'true or false: cap new logins at legacy when the auth error rate or validation p95 passes its limit' }),
  WS_SLOW_CLOSE_AFTER: v({ default: '10s', pattern: DURATION_PATTERN, form: 'how long a socket may stay above WS_SLOW_BUFFER before it is closed 1013, such as 10s' }),
  DEPENDENCY_LOG_INTERVAL: v({ default: '10s', pattern: DURATION_PATTERN, form: 'how often a dependency outage logs its count of 503 answers, such as 10s (the first failure and the recovery are logged once each)' }),

  RETENTION_INTERVAL: v({ default: '1h', pattern: DURATION_PATTERN, form: 'how often one instance deletes rows past retention, such as 1h; 0 turns the retention jobs off' }),
  RETENTION_BATCH_SIZE: v({ default: '1000', pattern: INT, form: 'rows per delete statement of the retention jobs, 1 to 100000' }),
  AUDIT_RETENTION_DAYS: v({ default: '365', pattern: INT, form: 'days audit rows are kept, 30 to 36500' }),
  SESSION_RETENTION_DAYS: v({ default: '90', pattern: INT, form: 'days a user_sessions row is kept after the session ended (revoked or expired), 1 to 36500' }),
  REFRESH_TOKEN_RETENTION_DAYS: v({ default: '30', pattern: INT, form: 'days a refresh token row is kept after it expired or was revoked, 1 to 36500' }),
  SHUTDOWN_TIMEOUT: v({ default: '10s', pattern: DURATION_PATTERN, form: 'how long a stopping server may take to finish in-flight requests before it exits, such as 10s (keep the pod\'s grace period above it)' })
})

export interface Config {
  readonly nodeEnv: 'development' | 'production' | 'test'
  readonly isProduction: boolean
  readonly port: number
  readonly host: string
  readonly logLevel: string
  /** Fastify's trustProxy: false, a hop count, or the proxies' addresses/CIDRs (true only outside production) */
  readonly trustProxy: boolean | number | readonly string[]
  readonly redis: { readonly url: string; readonly clusterNodes: readonly { host: string; port: number }[]; readonly keyPrefix: string }
  readonly db: { readonly url: string; readonly adminUrl: string; readonly poolMax: number; readonly statementTimeoutMs: number; readonly queryTimeoutMs: number }
  readonly migrateOnStart: boolean
  /** SIGTERM to exit at the latest */
  readonly shutdownTimeoutMs: number
  /** /docs (the readable reference) and /docs/json */
  readonly docsEnabled: boolean
  readonly session: {
    readonly idleTimeoutMs: number
    readonly absoluteTimeoutMs: number
    readonly touchIntervalMs: number
    readonly maxPerUser: number
    /** 0 = near cache off */
    readonly cacheTtlMs: number
    readonly cacheMax: number
    /** a missing sentinel at start counts as lost Redis data (see sessions/restore.ts) */
    readonly restoreOnStart: boolean
    /** how new records are written in Redis (both forms are always read) */
    readonly recordFormat: 'string' | 'hash'
    readonly cookieSecure: boolean
    /** `__Host-sid` whenever the cookie is Secure (the prefix requires it), else `sid` */
    readonly cookieName: string
  }
  readonly jwt: { readonly accessSecret: string; readonly accessTtlMs: number; readonly issuer: string; readonly audience: string }
  readonly refresh: { readonly ttlMs: number; readonly reuseGraceMs: number }
  readonly rollout: {
    readonly newAuthEnabled: boolean
    readonly newAuthPercentage: number
    readonly rollbackMode: boolean
    readonly securityLockdown: boolean
    /** false = legacy JWTs retired: every login gets a session, Bearer and refresh tokens are refused */
    readonly legacyAuthEnabled: boolean
  }
  readonly rateLimits: { readonly login: RateLimit; readonly refresh: RateLimit; readonly register: RateLimit }
  readonly loginBackoff: { readonly threshold: number; readonly maxMs: number }
  readonly allowedOrigins: readonly string[]
  readonly prices: {
    readonly symbols: readonly string[]
    readonly tickMs: number
    readonly leaderTtlMs: number
  }
  readonly ws: {
    readonly maxPerUser: number
    readonly pingIntervalMs: number
    readonly sweepIntervalMs: number
    readonly authTimeoutMs: number
    readonly slowBufferBytes: number
    readonly slowCloseAfterMs: number
  }
  readonly ops: {
    /** null = no separate metrics listener */
    readonly metricsPort: number | null
    readonly metricsHost: string
    readonly autoRollback: boolean
  }
  /** how often an ongoing dependency outage logs its count of 503 answers */
  readonly dependencyLogIntervalMs: number
  readonly retention: {
    /** 0 = the retention jobs are off */
    readonly intervalMs: number
    readonly batchSize: number
    readonly auditDays: number
    readonly sessionDays: number
    readonly refreshTokenDays: number
  }
}

interface RateLimit { readonly max: number; readonly windowMs: number }

export type Env = Record<string, string | undefined>

export class ConfigError extends Error {
  constructor (readonly problems: string[]) {
    super('invalid configuration:\n' + problems.join('\n'))
    this.name = 'ConfigError'
  }
}

const MIN_SECRET_BYTES = 32

function bool (s: string): boolean {
  return /^(true|1|yes|on)$/i.test(s)
}

/**
 * Reads the environment. Throws ConfigError listing every bad variable; returns the frozen
 * config and warnings to log (e.g. a generated development secret).
 */
export function parseConfig (env: Env = process.env): { config: Config; warnings: string[] } {
  const raw: Record<string, string> = {}
  const problems: string[] = []
  const props = EnvSchema.properties as Record<string, TString>

  for (const name of Object.keys(props)) raw[name] = readVar(name, env, problems)
  const r = raw as Record<keyof typeof EnvSchema.properties, string>

  const intIn = (name: keyof typeof r, min: number, max: number): number => {
    const n = Number(r[name])
    if (Number.isInteger(n) && (n < min || n > max) && !problems.some(p => p.startsWith(name + ':'))) {
      problems.push(`${name}: ${n} is out of range; expected an integer from ${min} to ${max}`)
    }
    return n
  }
  const durationMs = (name: keyof typeof r, minMs: number): number => {
    const ms = parseDuration(r[name])
    if (ms !== null && ms < minMs && !problems.some(p => p.startsWith(name + ':'))) {
      problems.push(`${name}: ${r[name]} is too short; expected at least ${minMs} ms`)
    }
    return ms ?? 0
  }

  const nodeEnv = r.NODE_ENV as Config['nodeEnv']
  const isProduction = nodeEnv === 'production'
  const port = intIn('PORT', 1, 65535)
  const poolMax = intIn('PG_POOL_MAX', 1, 200)
  const maxPerUser = intIn('MAX_SESSIONS_PER_USER', 1, 1000)
  const percentage = intIn('NEW_AUTH_PERCENTAGE', 0, 100)
  const idleTimeoutMs = durationMs('SESSION_IDLE_TIMEOUT', 1000)
  const absoluteTimeoutMs = durationMs('SESSION_ABSOLUTE_TIMEOUT', 1000)
  const touchIntervalMs = durationMs('SESSION_TOUCH_INTERVAL', 0)
  const accessTtlMs = durationMs('JWT_ACCESS_TTL', 1000)
  const refreshTtlMs = durationMs('REFRESH_TOKEN_TTL', 1000)
  const reuseGraceMs = durationMs('REFRESH_REUSE_GRACE', 0)
  const statementTimeoutMs = durationMs('PG_STATEMENT_TIMEOUT', 100)
  const queryTimeoutMs = durationMs('PG_QUERY_TIMEOUT', 100)
  const shutdownTimeoutMs = durationMs('SHUTDOWN_TIMEOUT', 1000)
  // a request stuck on Postgres must end before the grace does, or shutdown kills it unanswered
  if (queryTimeoutMs * 2 > shutdownTimeoutMs) problems.push(`PG_QUERY_TIMEOUT: ${r.PG_QUERY_TIMEOUT} is too long; expected at most half of SHUTDOWN_TIMEOUT (${r.SHUTDOWN_TIMEOUT}) so in-flight requests end within the grace period`)
  const cacheTtlMs = durationMs('SESSION_CACHE_TTL', 0)
  const cacheMax = intIn('SESSION_CACHE_MAX', 1, 10_000_000)
  if (cacheTtlMs > 60_000) problems.push(`SESSION_CACHE_TTL: ${r.SESSION_CACHE_TTL} is too long; expected at most 60s (it bounds how long a missed revocation could be served)`)

  const backoffThreshold = intIn('LOGIN_BACKOFF_THRESHOLD', 1, 1000)
  const backoffMaxMs = durationMs('LOGIN_BACKOFF_MAX', 1000)
  const rate = (name: keyof typeof r): RateLimit => {
    const [max, window] = r[name].split('/')
    const windowMs = parseDuration(window ?? '') ?? 0
    if (Value.Check(props[name]!, r[name]) && (Number(max) < 1 || windowMs < 1000)) {
      problems.push(`${name}: ${r[name]} is too small; expected at least 1 request per window of at least 1s`)
    }
    return { max: Number(max), windowMs }
  }
  const rateLimits = { login: rate('RATE_LIMIT_LOGIN'), refresh: rate('RATE_LIMIT_REFRESH'), register: rate('RATE_LIMIT_REGISTER') }
  const trustProxy = parseTrustProxy(r.TRUST_PROXY, isProduction, problems)

  const tickMs = intIn('PRICE_TICK_MS', 5, 60_000)
  const leaderTtlMs = durationMs('PRICE_LEADER_TTL', 300)
  const wsMaxPerUser = intIn('WS_MAX_PER_USER', 1, 1000)
  const pingIntervalMs = durationMs('WS_PING_INTERVAL', 100)
  const sweepIntervalMs = durationMs('WS_SWEEP_INTERVAL', 100)
  const authTimeoutMs = durationMs('WS_AUTH_TIMEOUT', 100)
  const slowBufferBytes = intIn('WS_SLOW_BUFFER', 1024, 16_777_216)
  const slowCloseAfterMs = durationMs('WS_SLOW_CLOSE_AFTER', 100)
  const dependencyLogIntervalMs = durationMs('DEPENDENCY_LOG_INTERVAL', 100)
  const retentionIntervalMs = durationMs('RETENTION_INTERVAL', 0)
  if (retentionIntervalMs > 0 && retentionIntervalMs < 60_000) problems.push(`RETENTION_INTERVAL: ${r.RETENTION_INTERVAL} is too short; expected 0 (off) or at least 1m`)
  const retention = {
    intervalMs: retentionIntervalMs,
    batchSize: intIn('RETENTION_BATCH_SIZE', 1, 100_000),
    // the database refuses fewer than 30 days as well (purge_audit_logs): the trail cannot be wiped from the app
    auditDays: intIn('AUDIT_RETENTION_DAYS', 30, 36_500),
    sessionDays: intIn('SESSION_RETENTION_DAYS', 1, 36_500),
    refreshTokenDays: intIn('REFRESH_TOKEN_RETENTION_DAYS', 1, 36_500)
  }
  const symbols = [...new Set(r.PRICE_SYMBOLS.split(','))]
  if (symbols.length > 500) problems.push(`PRICE_SYMBOLS: ${symbols.length} symbols; expected at most 500`)

  if (absoluteTimeoutMs && idleTimeoutMs && absoluteTimeoutMs < idleTimeoutMs) {
    problems.push(`SESSION_ABSOLUTE_TIMEOUT: ${r.SESSION_ABSOLUTE_TIMEOUT} is shorter than SESSION_IDLE_TIMEOUT (${r.SESSION_IDLE_TIMEOUT}); expected absolute >= idle`)
  }

  if (idleTimeoutMs && touchIntervalMs >= idleTimeoutMs) {
    problems.push(`SESSION_TOUCH_INTERVAL: ${r.SESSION_TOUCH_INTERVAL} is not shorter than SESSION_IDLE_TIMEOUT (${r.SESSION_IDLE_TIMEOUT}); sessions in use would expire`)
  }

  const warnings: string[] = []
  checkLegacyRetirement(r, percentage, problems, warnings)
  let accessSecret = r.JWT_ACCESS_SECRET
  if (Buffer.byteLength(accessSecret) < MIN_SECRET_BYTES) {
    if (isProduction) {
      problems.push(`JWT_ACCESS_SECRET: ${accessSecret ? 'too short' : 'missing'}; expected at least ${MIN_SECRET_BYTES} bytes of random text`)
    } else {
      warnings.push(`JWT_ACCESS_SECRET is ${accessSecret ? 'shorter than 32 bytes' : 'unset'}: generated a random one for this process (legacy tokens will not survive a restart); set it in production`)
      accessSecret = randomBytes(48).toString('base64url')
    }
  }

  if (problems.length > 0) throw new ConfigError(problems)

  const cookieSecure = r.COOKIE_SECURE === 'auto' ? isProduction : bool(r.COOKIE_SECURE)
  const config: Config = {
    nodeEnv,
    isProduction,
    port,
    host: r.HOST,
    logLevel: r.LOG_LEVEL,
    trustProxy,
    redis: {
      url: r.REDIS_URL,
      clusterNodes: r.REDIS_CLUSTER_NODES
        ? r.REDIS_CLUSTER_NODES.split(',').map(hp => {
          const i = hp.lastIndexOf(':')
          return { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) }
        })
        : [],
      keyPrefix: r.REDIS_KEY_PREFIX
    },
    db: { url: r.DATABASE_URL, adminUrl: r.DATABASE_ADMIN_URL, poolMax, statementTimeoutMs, queryTimeoutMs },
    migrateOnStart: r.MIGRATE_ON_START === '' ? !isProduction : bool(r.MIGRATE_ON_START),
    shutdownTimeoutMs,
    docsEnabled: r.DOCS_ENABLED === '' ? !isProduction : bool(r.DOCS_ENABLED),
    session: {
      idleTimeoutMs,
      absoluteTimeoutMs,
      touchIntervalMs,
      maxPerUser,
      cacheTtlMs,
      cacheMax,
      restoreOnStart: bool(r.SESSION_RESTORE_ON_START),
      recordFormat: r.SESSION_RECORD_FORMAT === 'hash' ? 'hash' : 'string',
      cookieSecure,
      cookieName: cookieSecure ? '__Host-sid' : 'sid'
    },
    jwt: { accessSecret, accessTtlMs, issuer: r.JWT_ISSUER, audience: r.JWT_AUDIENCE },
    refresh: { ttlMs: refreshTtlMs, reuseGraceMs },
    rollout: {
      newAuthEnabled: bool(r.NEW_AUTH_ENABLED),
      newAuthPercentage: percentage,
      rollbackMode: bool(r.ROLLBACK_MODE),
      securityLockdown: bool(r.SECURITY_LOCKDOWN),
      legacyAuthEnabled: bool(r.LEGACY_AUTH_ENABLED)
    },
    rateLimits,
    loginBackoff: { threshold: backoffThreshold, maxMs: backoffMaxMs },
    allowedOrigins: r.ALLOWED_ORIGINS ? r.ALLOWED_ORIGINS.split(',') : localOrigins(r.HOST, port),
    prices: { symbols, tickMs, leaderTtlMs },
    ws: { maxPerUser: wsMaxPerUser, pingIntervalMs, sweepIntervalMs, authTimeoutMs, slowBufferBytes, slowCloseAfterMs },
    ops: {
      metricsPort: r.METRICS_PORT === '' ? null : Number(r.METRICS_PORT),
      metricsHost: r.METRICS_HOST,
      autoRollback: bool(r.AUTO_ROLLBACK)
    },
    dependencyLogIntervalMs,
    retention
  }
  return { config: deepFreeze(config), warnings }
}

// The origins of this server as a browser on the same machine reaches it, so a server started
// with another PORT (or HOST) accepts its own pages' requests without further setting.
function localOrigins (host: string, port: number): string[] {
  const origins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`]
  // a wildcard address is where the server listens, never what a browser types
  if (['0.0.0.0', '::', '127.0.0.1', 'localhost'].includes(host)) return origins
  origins.push(`http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`)
  return origins
}

// Retiring legacy JWTs leaves sessions as the only way in: a configuration that also stops
// issuing sessions would let nobody sign in, so it is refused at start, not found in production.
function checkLegacyRetirement (r: Record<'LEGACY_AUTH_ENABLED' | 'ROLLBACK_MODE' | 'NEW_AUTH_ENABLED', string>, percentage: number, problems: string[], warnings: string[]): void {
  if (bool(r.LEGACY_AUTH_ENABLED)) return
  const blocking = [
    ...(bool(r.ROLLBACK_MODE) ? ['ROLLBACK_MODE=true'] : []),
    ...(bool(r.NEW_AUTH_ENABLED) ? [] : ['NEW_AUTH_ENABLED=false'])
  ]
  if (blocking.length > 0) {
    problems.push(`LEGACY_AUTH_ENABLED: false together with ${blocking.join(' and ')} leaves nobody a way to sign in (no legacy tokens and no new sessions); set LEGACY_AUTH_ENABLED=true, or issue sessions again`)
  } else if (percentage < 100) {
    warnings.push(`NEW_AUTH_PERCENTAGE=${percentage} has no effect while LEGACY_AUTH_ENABLED=false: every login gets a session`)
  }
}

/** one variable's value (or its default), checked against its schema entry; a problem line when bad */
function readVar (name: string, env: Env, problems: string[]): string {
  const schema = (EnvSchema.properties as Record<string, TString>)[name]!
  const given = env[name]
  const value = given === undefined ? (schema.default as string) : given.trim()
  if (!Value.Check(schema, value)) {
    const shown = (schema as { 'x-secret'?: boolean })['x-secret'] ? '(value hidden)' : JSON.stringify(value)
    problems.push(`${name}: ${shown} is not valid; expected ${schema.description}`)
  }
  return value
}

/**
 * What the migrations need and nothing more: the schema owner's URL. The migration Job runs with
 * this alone, so it is never handed the JWT secret or the app's other settings.
 */
export function parseMigrateConfig (env: Env = process.env): { adminUrl: string } {
  const problems: string[] = []
  const adminUrl = readVar('DATABASE_ADMIN_URL', env, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return { adminUrl }
}

// true trusts every hop: the client's own leftmost X-Forwarded-For becomes request.ip, so
// anyone can pick the address that rate limits, audit rows and session lists see.
function parseTrustProxy (value: string, isProduction: boolean, problems: string[]): Config['trustProxy'] {
  const word = value.toLowerCase()
  if (['false', 'no', 'off'].includes(word)) return false
  if (['true', 'yes', 'on'].includes(word)) {
    if (isProduction) {
      problems.push('TRUST_PROXY: true trusts every hop, so clients can forge their address; set the number of proxies in front (such as 1) or their addresses/CIDRs (such as 10.0.0.0/8)')
    }
    return true
  }
  if (/^[0-9]+$/.test(value)) {
    const hops = Number(value)
    if (hops > 10) problems.push(`TRUST_PROXY: ${value} hops is implausible; expected 0 to 10`)
    return hops === 0 ? false : hops
  }
  const entries = value.split(',')
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined]
    const family = isIP(address)
    const maxPrefix = family === 6 ? 128 : 32
    if (family === 0 || (prefix !== undefined && Number(prefix) > maxPrefix)) {
      problems.push(`TRUST_PROXY: ${entry} is not an IP address or CIDR`)
    }
  }
  return entries
}

function deepFreeze<T> (o: T): T {
  for (const value of Object.values(o as object)) {
    if (value && typeof value === 'object') deepFreeze(value)
  }
  return Object.freeze(o)
}
