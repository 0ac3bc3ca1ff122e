// Decorates the app with the session store and its Postgres mirror.
import fp from 'fastify-plugin'
import type { Config } from '../../config/config.js'
import { createSessionStore, type SessionStore } from './store.js'
import { revocationChannel } from '../revocations.js'
import { createSessionMirror, type SessionMirror } from './mirror.js'
import { createSessionCache, type SessionCache } from './cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
    sessionMirror: SessionMirror
    /** null when SESSION_CACHE_TTL is 0 */
    sessionCache: SessionCache | null
  }
}

export const sessionsPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const channel = revocationChannel(config.redis.keyPrefix)
  const cache = config.session.cacheTtlMs > 0
    ? createSessionCache(app.redis, channel, { ttlMs: config.session.cacheTtlMs, max: config.session.cacheMax }, app.log)
    : null
  app.decorate('sessionCache', cache)
  if (cache) app.addHook('onClose', () => cache.close())
  app.decorate('sessions', createSessionStore(app.redis, {
    keyPrefix: config.redis.keyPrefix,
    idleTimeoutMs: config.session.idleTimeoutMs,
    absoluteTimeoutMs: config.session.absoluteTimeoutMs,
    touchIntervalMs: config.session.touchIntervalMs,
    maxPerUser: config.session.maxPerUser
  }, cache ?? undefined))
  const mirror = createSessionMirror(app.db.sql, app.log)
  app.decorate('sessionMirror', mirror)
  app.addHook('onClose', () => mirror.close())
}, { name: 'sessions', dependencies: ['redis', 'db'] })
