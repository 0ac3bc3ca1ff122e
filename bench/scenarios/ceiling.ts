// 1. ceiling: GET /api/health on our server — no auth, no I/O. Everything ours does on top of
// Fastify (hooks, security headers, request ids) but no checking of anyone.
import type { Scenario } from '../lib/context.js'
import { startServer } from '../lib/processes.js'
import { plainHeaders } from '../lib/requests.js'
import { measureTarget, scenarioResult, withChild } from '../lib/scenario-kit.js'

export const ceiling: Scenario = {
  name: 'ceiling',
  title: 'GET /api/health: no auth, no I/O',
  run: async ctx => {
    const m = await withChild(startServer(ctx.bench, 'server'), server =>
      measureTarget(ctx, server, 'ceiling', 'ours: GET /api/health', 'ours', { path: '/api/health', headerSets: plainHeaders }))
    return scenarioResult(ceiling, [m])
  }
}
