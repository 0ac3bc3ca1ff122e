// session-validate: GET /api/auth/me, the cookie path of the authenticate hook, beside the
// ceiling and the peers a user might pick instead, all measured in the same interleaved rounds
// (see lib/rounds.ts) so every ratio of the issue's table comes from runs made seconds apart:
// - ceiling: GET /api/health on our server, no auth and no I/O;
// - near cache on, 1,000 active sessions round robin (the migration plan's 1,000+ concurrent
//   users): each cookie comes back well within the TTL, so this is the hit path;
// - near cache on, 100,000 sessions round robin (30,000 in quick mode): each cookie comes back
//   long after the TTL, a cold cache, so this is the miss path (lookup, Redis, fill);
// - near cache off (SESSION_CACHE_TTL=0), 10,000 sessions round robin, and the same 100,000
//   cold sessions as above: the cold pair differs only in the cache, since a session used after
//   its touch interval costs a touch and a mirror write with or without it;
// - the one-GET floor, @fastify/session + connect-redis and @fastify/jwt (bench/peers).
// Our two servers are bench/peers/hallpass-with-bench-routes.ts (our app, plus a /metrics of
// prom-client's default registry when the build serves none on its listener); around each
// latency run the bench reads hallpass_session_validation_seconds and the cache counters.
import type { Env } from '../../src/config/config.js'
import type { Scenario } from '../lib/context.js'
import { startPeer, type Child } from '../lib/processes.js'
import { bearerHeaders, cookieHeaders, plainHeaders } from '../lib/requests.js'
import { scenarioResult } from '../lib/scenario-kit.js'
import { describeValidation } from '../lib/metrics.js'
import { measureInRounds, type Side } from '../lib/rounds.js'
import { round } from '../lib/stats.js'

export const sessionValidate: Scenario = {
  name: 'session-validate',
  title: 'GET /api/auth/me by session cookie, cache on (1,000 active; 100,000 cold) and off, beside the ceiling and the peers, in interleaved rounds',
  run: async ctx => {
    const { bench, seed } = ctx
    const cookie = bench.config.session.cookieName
    const sessions = cookieHeaders(cookie, seed.sessionTokens)
    const cold = cookieHeaders(cookie, seed.coldTokens)
    const redis = { REDIS_URL: bench.redisUrl, KEY_PREFIX: bench.keyPrefix }
    const jwtEnv = { JWT_ACCESS_SECRET: bench.server.JWT_ACCESS_SECRET, JWT_ISSUER: bench.config.jwt.issuer, JWT_AUDIENCE: bench.config.jwt.audience }
    const children: Child[] = []
    const start = async (p: Promise<Child>): Promise<Child> => { const c = await p; children.push(c); return c }
    try {
      // undefined removes the variable: the server's default SESSION_CACHE_TTL, i.e. the cache on
      const on = await start(startPeer('hallpass-with-bench-routes.ts', { ...bench.server, SESSION_CACHE_TTL: undefined } as Env))
      const off = await start(startPeer('hallpass-with-bench-routes.ts', { ...bench.server, SESSION_CACHE_TTL: '0' }))
      const floor = await start(startPeer('redis-get.ts', redis))
      const fastifySession = await start(startPeer('fastify-session.ts', { ...redis, FASTIFY_SESSION_SECRET: bench.fastifySessionSecret }))
      const fastifyJwt = await start(startPeer('fastify-jwt.ts', jwtEnv))
      const me = '/api/auth/me'
      // one spec, so one rotation (lib/load.ts): the two cold sides go on from each other's last
      // cookie and neither re-sends what the other just touched
      const coldSpec = { path: me, headerSets: cold }
      const sides: Side[] = [
        { child: on, key: 'ceiling', label: 'ours: GET /api/health (ceiling)', kind: 'ours', spec: { path: '/api/health', headerSets: plainHeaders } },
        { child: on, key: 'session-validate:cache-on-1k', label: 'ours: session, cache on, 1,000 active', kind: 'ours', spec: { path: me, headerSets: sessions.slice(0, 1000) }, latency: true, validationMetrics: true },
        { child: off, key: 'session-validate:cache-off', label: 'ours: session, cache off', kind: 'ours', spec: { path: me, headerSets: sessions }, latency: true, validationMetrics: true },
        { child: floor, key: 'peer:redis-get', label: 'peer: Fastify + one ioredis GET', kind: 'peer', spec: { path: me, headerSets: cookieHeaders('sid', seed.sessionTokens) } },
        { child: on, key: 'session-validate:cache-on-cold', label: `ours: session, cache on, ${seed.coldTokens.length.toLocaleString('en')} cold`, kind: 'ours', spec: coldSpec, latency: true, validationMetrics: true },
        { child: off, key: 'session-validate:cache-off-cold', label: `ours: session, cache off, the same ${seed.coldTokens.length.toLocaleString('en')}`, kind: 'ours', spec: coldSpec },
        { child: fastifySession, key: 'peer:fastify-session', label: 'peer: @fastify/session + connect-redis', kind: 'peer', spec: { path: me, headerSets: cookieHeaders('sid', ctx.fastifySessionCookies) } },
        { child: fastifyJwt, key: 'peer:fastify-jwt', label: 'peer: @fastify/jwt verify', kind: 'peer', spec: { path: me, headerSets: bearerHeaders(seed.bearerTokens) } }
      ]
      const { measurements, validation } = await measureInRounds(ctx, 'session-validate', sides)
      const notes = [
        `cache on = SESSION_CACHE_TTL unset (the server default, ${bench.config.session.cacheTtlMs / 1000} s); cache off = SESSION_CACHE_TTL=0`,
        ...Object.entries(validation).map(([key, r]) => `${key}: ${describeValidation(r)}`)
      ]
      // round robin brings each cookie back every N/rate seconds: the cache only hits under its TTL
      const ttlS = bench.config.session.cacheTtlMs / 1000
      for (const m of measurements.filter(m => m.key.startsWith('session-validate:cache-on'))) {
        const n = m.key.endsWith('1k') ? 1000 : seed.coldTokens.length
        notes.push(`${m.label}: each cookie came back every ${round(n / m.saturation.reqPerSec)} s at saturation (cache TTL ${ttlS} s)`)
      }
      notes.push('@fastify/session runs with its defaults (rolling: every request saves the session back: a GET and a SET); @fastify/jwt with its default of no verify cache; the floor reads one key per session cookie of ours')
      return scenarioResult(sessionValidate, measurements, notes, { details: { validation } })
    } finally {
      await Promise.all(children.map(c => c.stop()))
    }
  }
}
