// Decorates the app with the session store, its durable record in Postgres, the mirror's
// trailing writes, and the watcher that repairs Redis after it lost its data.
import fp from 'fastify-plugin'
import type { Config } from '../../config/config.js'
import { createSessionStore, type SessionStore } from './store.js'
import { revocationChannel } from '../revocations.js'
import { createSessionMirror, type SessionMirror } from './mirror.js'
import { createSessionCache, type SessionCache } from './cache.js'
import { createSessionRecords, type SessionRecords } from './records.js'
import { createRedisBreaker } from './redis-breaker.js'
import { createSessionRestorer, type SessionRestorer } from './restore.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
    sessionRecords: SessionRecords
    sessionMirror: SessionMirror
    sessionRestorer: SessionRestorer
    /** null when SESSION_CACHE_TTL is 0 */
    sessionCache: SessionCache | null
  }
}

// how often the sentinel is checked: FLUSHALL publishes nothing, so this bounds how long a
// near cache may serve what Redis no longer holds (besides the cache's own TTL)
const SENTINEL_CHECK_MS = 1000

export const sessionsPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const channel = revocationChannel(config.redis.keyPrefix)
  const cache = config.session.cacheTtlMs > 0
    ? createSessionCache(app.redis, channel, { ttlMs: config.session.cacheTtlMs, max: config.session.cacheMax, touchIntervalMs: config.session.touchIntervalMs }, app.log)
    : null
  app.decorate('sessionCache', cache)
  if (cache) app.addHook('onClose', () => cache.close())
  const records = createSessionRecords(app.db.sql)
  const breaker = createRedisBreaker(app.log)
  const store = createSessionStore(app.redis, {
    keyPrefix: config.redis.keyPrefix,
    idleTimeoutMs: config.session.idleTimeoutMs,
    absoluteTimeoutMs: config.session.absoluteTimeoutMs,
    touchIntervalMs: config.session.touchIntervalMs,
    maxPerUser: config.session.maxPerUser,
    reader: app.redisReader,
    recordFormat: config.session.recordFormat
  }, cache ?? undefined, { records, breaker })
  app.decorate('sessions', store)
  app.decorate('sessionRecords', records)
  const mirror = createSessionMirror(app.db.sql, app.log)
  app.decorate('sessionMirror', mirror)
  app.addHook('onClose', () => mirror.close())
  const restorer = createSessionRestorer({
    redis: app.redis,
    store,
    records,
    breaker,
    cache,
    log: app.log,
    keyPrefix: config.redis.keyPrefix,
    checkEveryMs: SENTINEL_CHECK_MS,
    restoreOnStart: config.session.restoreOnStart
  })
  app.decorate('sessionRestorer', restorer)
  app.addHook('onReady', () => restorer.check())
  app.addHook('onClose', async () => restorer.close())
}, { name: 'sessions', dependencies: ['redis', 'db'] })
