// 4. mixed: GET /api/auth/me, every other request a session cookie or a Bearer JWT — the shape
// of the traffic during the rollout.
import type { Scenario } from '../lib/context.js'
import { startServer } from '../lib/processes.js'
import { bearerHeaders, cookieHeaders, interleave } from '../lib/requests.js'
import { measureTarget, scenarioResult, withChild } from '../lib/scenario-kit.js'

export const mixed: Scenario = {
  name: 'mixed',
  title: 'GET /api/auth/me, 50/50 session cookies and Bearer JWTs',
  run: async ctx => {
    const sets = interleave(cookieHeaders(ctx.bench.config.session.cookieName, ctx.seed.sessionTokens), bearerHeaders(ctx.seed.bearerTokens))
    const m = await withChild(startServer(ctx.bench, 'server'), server =>
      measureTarget(ctx, server, 'mixed', 'ours: 50/50 session + legacy', 'ours', { path: '/api/auth/me', headerSets: sets }))
    return scenarioResult(mixed, [m])
  }
}
