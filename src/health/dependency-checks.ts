// Readiness checks of the backing services and of the event loop, each bounded by a short
// timeout so a dead dependency answers "down" quickly instead of hanging the probe. A reason
// says what was unreachable and how, in words an operator acts on ("postgres 10.0.0.5:5432:
// connection refused"), never a client library's internals.
import type { FastifyInstance } from 'fastify'
import { postgresAddress } from '../infra/db.js'

export type CheckResult = { ok: true } | { ok: false; reason: string }

const PLAIN_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  CONNECT_TIMEOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  CONNECTION_CLOSED: 'connection closed',
  CONNECTION_DESTROYED: 'connection closed',
  CONNECTION_ENDED: 'connection closed',
  '28P01': 'password refused',
  28000: 'login refused',
  '3D000': 'database does not exist',
  '57P01': 'the server is shutting down',
  '57P03': 'the server is starting up or shutting down',
  53300: 'too many connections',
  LOADING: 'loading its data set',
  MASTERDOWN: 'its primary is down',
  READONLY: 'read-only replica',
  OOM: 'out of memory (maxmemory)'
}

/** a plain description of why a dependency did not answer */
function describeCause (err: unknown, timeoutMs: number): string {
  const e = err as { code?: unknown; message?: unknown } | null
  if (e && typeof e.code === 'string') {
    if (e.code === 'PROBE_TIMEOUT') return `no answer within ${timeoutMs} ms`
    const plain = PLAIN_CAUSES[e.code]
    if (plain) return plain
  }
  // Redis replies start with their error class (LOADING, READONLY, OOM …)
  const word = typeof e?.message === 'string' ? /^([A-Z]+)\b/.exec(e.message)?.[1] : undefined
  if (word && PLAIN_CAUSES[word]) return PLAIN_CAUSES[word]
  return 'not answering'
}

function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('probe timed out'), { code: 'PROBE_TIMEOUT' })), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

function redisAddress (app: FastifyInstance): string {
  const { url, clusterNodes } = app.config.redis
  if (clusterNodes.length > 0) return `cluster ${clusterNodes.map(n => `${n.host}:${n.port}`).join(',')}`
  try {
    const u = new URL(url)
    return `${u.hostname}:${u.port || '6379'}`
  } catch {
    return 'the configured address'
  }
}

/**
 * Redis: PING. When the client is not connected, the command fails with the client's own
 * words ("Connection is closed"): the last connection error says what really happened.
 */
export function createRedisCheck (app: FastifyInstance): (ms?: number) => Promise<CheckResult> {
  let lastConnectionError: unknown = null
  app.redis.on('error', (err: unknown) => { lastConnectionError = err })
  app.redis.on('ready', () => { lastConnectionError = null })
  return async (ms = 1000) => {
    try {
      const pong = await withTimeout(app.redis.ping(), ms)
      return pong === 'PONG' ? { ok: true } : { ok: false, reason: `redis ${redisAddress(app)}: unexpected reply` }
    } catch (err) {
      const cause = describeCause(err, ms)
      const why = cause === 'not answering' && lastConnectionError ? describeCause(lastConnectionError, ms) : cause
      return { ok: false, reason: `redis ${redisAddress(app)}: ${why}` }
    }
  }
}

/** Postgres: `select 1` on the dedicated probe connection, outside the pool's queue */
export async function checkPostgres (app: FastifyInstance, ms = 1000): Promise<CheckResult> {
  try {
    await app.db.ping(ms)
    return { ok: true }
  } catch (err) {
    return { ok: false, reason: `postgres ${postgresAddress(app.config.db.url)}: ${describeCause(err, ms)}` }
  }
}

/**
 * The event loop: the longest delay seen since the previous check. A loop stalled this long
 * cannot answer its requests in time even though every dependency is fine.
 */
export function createEventLoopCheck (stallMs: number, tickMs = 100): { check: () => CheckResult; stop: () => void } {
  // Our own tick, not perf_hooks' monitorEventLoopDelay: on Node 20.20 and 24.21 that histogram
  // recorded a 2.3 s busy stall as 20 ms (2 samples), so readiness never saw it. A tick that comes
  // late by d means the loop was blocked for d; a check also counts the stall still running.
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - tickMs)
    last = now
  }, tickMs)
  timer.unref()
  return {
    check () {
      const maxMs = Math.round(Math.max(worst, performance.now() - last - tickMs))
      worst = 0
      return maxMs > stallMs ? { ok: false, reason: `event loop stalled for ${maxMs} ms (limit ${stallMs} ms)` } : { ok: true }
    },
    stop: () => clearInterval(timer)
  }
}
