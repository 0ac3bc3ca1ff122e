// PLACEHOLDER (to be implemented): @fastify/rate-limit on a Redis store shared by all instances.
import fp from 'fastify-plugin'
import type { Config } from '../config.js'

export type RateLimitKind = 'login' | 'refresh' | 'logout'

export const rateLimitPlugin = fp<{ config: Config }>(async () => {}, { name: 'rate-limits', dependencies: ['redis'] })

/** route options that apply the named limit: `{ config: routeRateLimit(config, 'login') }` */
export function routeRateLimit (_config: Config, _kind: RateLimitKind): Record<string, unknown> {
  return {}
}
