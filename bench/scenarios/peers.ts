// 9. peers: other ways to do what ours does, each a small process from bench/peers, measured
// with the same load shape in the same run, so ours can be read as ratios to them:
// bare Fastify (no I/O), the one-GET floor (cookie + one ioredis GET), @fastify/session +
// connect-redis, @fastify/jwt (verify only), and @fastify/jwt with a Redis deny-list read.
import type { Env } from '../../src/config/config.js'
import type { Scenario } from '../lib/context.js'
import { startPeer } from '../lib/processes.js'
import { bearerHeaders, cookieHeaders, plainHeaders, type HeaderSet } from '../lib/requests.js'
import { measureTarget, scenarioResult, withChild } from '../lib/scenario-kit.js'
import { KEY_PREFIX } from '../lib/bench-env.js'
import type { Measurement } from '../lib/load.js'

interface Peer { file: string; key: string; label: string; path: string; headerSets: HeaderSet[]; env: Env }

export const peers: Scenario = {
  name: 'peers',
  title: 'Peers: bare Fastify, one ioredis GET, @fastify/session + connect-redis, @fastify/jwt, @fastify/jwt + Redis deny list',
  run: async ctx => {
    const { bench, seed } = ctx
    const redis = { REDIS_URL: bench.redisUrl, KEY_PREFIX }
    const list: Peer[] = [
      { file: 'fastify-bare.ts', key: 'peer:fastify-bare', label: 'peer: bare Fastify, no I/O', path: '/api/health', headerSets: plainHeaders, env: {} },
      { file: 'redis-get.ts', key: 'peer:redis-get', label: 'peer: Fastify + one ioredis GET', path: '/api/auth/me', headerSets: cookieHeaders('sid', seed.sessionTokens), env: redis },
      {
        file: 'fastify-session.ts',
        key: 'peer:fastify-session',
        label: 'peer: @fastify/session + connect-redis',
        path: '/api/auth/me',
        headerSets: cookieHeaders('sid', ctx.fastifySessionCookies),
        env: { ...redis, FASTIFY_SESSION_SECRET: bench.fastifySessionSecret }
      },
      {
        file: 'fastify-jwt.ts',
        key: 'peer:fastify-jwt',
        label: 'peer: @fastify/jwt verify',
        path: '/api/auth/me',
        headerSets: bearerHeaders(seed.bearerTokens),
        env: { JWT_ACCESS_SECRET: bench.server.JWT_ACCESS_SECRET, JWT_ISSUER: bench.config.jwt.issuer, JWT_AUDIENCE: bench.config.jwt.audience }
      },
      {
        file: 'fastify-jwt-denylist.ts',
        key: 'peer:fastify-jwt-denylist',
        label: 'peer: @fastify/jwt + Redis deny list',
        path: '/api/auth/me',
        headerSets: bearerHeaders(seed.bearerTokens),
        env: { ...redis, JWT_ACCESS_SECRET: bench.server.JWT_ACCESS_SECRET, JWT_ISSUER: bench.config.jwt.issuer, JWT_AUDIENCE: bench.config.jwt.audience }
      }
    ]
    const measurements: Measurement[] = []
    for (const p of list) {
      measurements.push(await withChild(startPeer(p.file, p.env), child =>
        measureTarget(ctx, child, p.key, p.label, 'peer', { path: p.path, headerSets: p.headerSets })))
    }
    return scenarioResult(peers, measurements, [
      `the floor reads one key per session cookie of ours and @fastify/session ${ctx.fastifySessionCookies.length.toLocaleString('en')} sessions of its own, both round robin like session-validate; @fastify/jwt verifies the ${seed.bearerTokens.length.toLocaleString('en')} JWTs of legacy-validate`,
      '@fastify/session runs with its defaults (rolling: every request saves the session back: a GET and a SET); @fastify/jwt with its default of no verify cache'
    ])
  }
}
