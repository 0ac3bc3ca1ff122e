// Per-IP limits on the auth endpoints, counted in Redis so every instance behind the load
// balancer shares one counter: an attacker gains nothing by spreading over instances.
// Opt-in per route (`global: false`); the hot API path pays nothing.
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { Config } from '../config/config.js'
import { Errors } from './errors.js'

export type RateLimitKind = 'login' | 'refresh' | 'register'

/** the route `config` that applies a limit: `{ rateLimit: { max, timeWindow } }` */
export type RouteRateLimit = { rateLimit: { max: number; timeWindow: number } }

export const rateLimitPlugin = fp<{ config: Config }>(async (app, { config }) => {
  await app.register(rateLimit, {
    global: false,
    // One key per counter (INCR + PEXPIRE in one Lua call), so a Redis Cluster is fine.
    // The default key is request.ip (trustProxy is set in app.ts: a hop count or the proxies'
    // addresses, never every hop, so a forged X-Forwarded-For cannot pick a fresh bucket).
    redis: app.redis,
    nameSpace: config.redis.keyPrefix + 'rl:',
    // Fail closed: when Redis is down the limiter throws and the error handler answers 503.
    // Failing open would hand an attacker unlimited password guesses exactly when the
    // per-account backoff (also in Redis) is blind too, and it buys no availability: without
    // Redis no session can be created and no access token checked against the deny list.
    skipOnError: false,
    // thrown, so it goes through the app's error handler and gets the house shape; the
    // plugin has already set Retry-After (seconds) and the x-ratelimit-* headers
    errorResponseBuilder: (_request, context) => {
      const err = new Errors.RATE_LIMITED()
      err.message = `Too many requests; retry in ${Math.max(1, Math.ceil(context.ttl / 1000))} s`
      return err
    }
  })
}, { name: 'rate-limits', dependencies: ['redis'] })

/** route options that apply the named limit: `{ config: routeRateLimit(config, 'login') }` */
export function routeRateLimit (config: Config, kind: RateLimitKind): RouteRateLimit {
  const { max, windowMs } = config.rateLimits[kind]
  return { rateLimit: { max, timeWindow: windowMs } }
}
