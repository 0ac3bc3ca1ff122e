// Decorates the app with the session store and its Postgres mirror.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createSessionStore, type SessionStore } from './session-store.js'
import { createSessionMirror, type SessionMirror } from './session-mirror.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore
    sessionMirror: SessionMirror
  }
}

export const sessionsPlugin = fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('sessions', createSessionStore(app.redis, {
    keyPrefix: config.redis.keyPrefix,
    idleTimeoutMs: config.session.idleTimeoutMs,
    absoluteTimeoutMs: config.session.absoluteTimeoutMs,
    touchIntervalMs: config.session.touchIntervalMs,
    maxPerUser: config.session.maxPerUser
  }))
  const mirror = createSessionMirror(app.db.sql, app.log)
  app.decorate('sessionMirror', mirror)
  app.addHook('onClose', () => mirror.close())
}, { name: 'sessions', dependencies: ['redis', 'db'] })
