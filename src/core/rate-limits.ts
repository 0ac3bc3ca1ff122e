// Per-IP limits on the auth endpoints, counted in Redis so every instance behind the load
// balancer shares one counter: an attacker gains nothing by spreading over instances.
// Opt-in per route (`global: false`); the hot API path pays nothing.
import fp from 'fastify-plugin'
import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config/config.js'
import { Errors } from './errors.js'

export type RateLimitKind = 'login' | 'refresh' | 'register'

/** the route `config` that applies a limit: `{ rateLimit: { max, timeWindow } }` */
export type RouteRateLimit = { rateLimit: { max: number; timeWindow: number } }

export const rateLimitPlugin = fp<{ config: Config }>(async (app, { config }) => {
  await app.register(rateLimit, {
    global: false,
    // One key per counter (INCR + PEXPIRE in one Lua call), so a Redis Cluster is fine.
    // The key is request.ip (trustProxy is set in app.ts: a hop count or the proxies'
    // addresses, never every hop, so a forged X-Forwarded-For cannot pick a fresh bucket).
    redis: app.redis,
    keyGenerator: rateLimitKey,
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

// the bucket of requests whose client hung up before the limiter ran (no address left to read)
export const DISCONNECTED_CLIENT_KEY = 'disconnected-client'

/**
 * The limiter's key: the client's address, normalised as the plugin's default does (an IPv6
 * client by its /56). The default throws when the client has already disconnected: the
 * socket's address is gone and request.ip is undefined (or proxy-addr throws reading it), which
 * was logged as a 500. Such requests share one bucket instead: nobody is left to answer.
 */
export function rateLimitKey (request: FastifyRequest): string {
  let ip: string | undefined
  try { ip = request.ip } catch { ip = undefined }
  return typeof ip === 'string' && ip !== '' ? normalizeIP(ip) : DISCONNECTED_CLIENT_KEY
}

/** route options that apply the named limit: `{ config: routeRateLimit(config, 'login') }` */
export function routeRateLimit (config: Config, kind: RateLimitKind): RouteRateLimit {
  const { max, windowMs } = config.rateLimits[kind]
  return { rateLimit: { max, timeWindow: windowMs } }
}
