// 3. legacy-validate: GET /api/auth/me with 10,000 distinct Bearer JWTs round robin, signed with
// the server's secret by its own signer: local HS256 verify (cached) plus the deny-list MGET.
import type { Scenario } from '../lib/context.js'
import { startServer } from '../lib/processes.js'
import { bearerHeaders } from '../lib/requests.js'
import { measureTarget, scenarioResult, withChild } from '../lib/scenario-kit.js'

export const legacyValidate: Scenario = {
  name: 'legacy-validate',
  title: 'GET /api/auth/me, 10,000 Bearer JWTs round robin (verify + deny-list check)',
  run: async ctx => {
    const spec = { path: '/api/auth/me', headerSets: bearerHeaders(ctx.seed.bearerTokens) }
    const m = await withChild(startServer(ctx.bench, 'server'), server =>
      measureTarget(ctx, server, 'legacy-validate', 'ours: legacy Bearer', 'ours', spec))
    return scenarioResult(legacyValidate, [m])
  }
}
