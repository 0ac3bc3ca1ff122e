// legacy-validate: GET /api/auth/me with 10,000 distinct Bearer JWTs round robin, signed with
// the server's secret by its own signer (local HS256 verify, cached, plus the deny-list check in
// Redis), beside its fair peer, @fastify/jwt with one Redis read of a deny list, in
// interleaved rounds.
import type { Scenario } from '../lib/context.js'
import { startPeer, startServer } from '../lib/processes.js'
import { bearerHeaders } from '../lib/requests.js'
import { scenarioResult, withChild } from '../lib/scenario-kit.js'
import { measureInRounds } from '../lib/rounds.js'

export const legacyValidate: Scenario = {
  name: 'legacy-validate',
  title: 'GET /api/auth/me, 10,000 Bearer JWTs round robin (verify + deny-list check), beside @fastify/jwt + a Redis deny list',
  run: async ctx => {
    const { bench } = ctx
    const headerSets = bearerHeaders(ctx.seed.bearerTokens)
    const peerEnv = { REDIS_URL: bench.redisUrl, KEY_PREFIX: bench.keyPrefix, JWT_ACCESS_SECRET: bench.server.JWT_ACCESS_SECRET, JWT_ISSUER: bench.config.jwt.issuer, JWT_AUDIENCE: bench.config.jwt.audience }
    const { measurements } = await withChild(startServer(bench, 'server'), server =>
      withChild(startPeer('fastify-jwt-denylist.ts', peerEnv), peer => measureInRounds(ctx, 'legacy-validate', [
        { child: server, key: 'legacy-validate', label: 'ours: legacy Bearer', kind: 'ours', spec: { path: '/api/auth/me', headerSets }, latency: true },
        { child: peer, key: 'peer:fastify-jwt-denylist', label: 'peer: @fastify/jwt + Redis deny list', kind: 'peer', spec: { path: '/api/auth/me', headerSets } }
      ])))
    return scenarioResult(legacyValidate, measurements)
  }
}
