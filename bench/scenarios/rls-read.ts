// 5. rls-read: GET /api/portfolios (one user's portfolios under RLS, one statement that sets its
// own context) beside the plain-portfolios peer running the same SQL without RLS. Both find the
// user with one Redis round trip; the ratio ours/plain is what RLS plus our stack cost.
import type { Scenario } from '../lib/context.js'
import { startPeer, startServer } from '../lib/processes.js'
import { cookieHeaders } from '../lib/requests.js'
import { firstReply, measureTarget, scenarioResult, withChild } from '../lib/scenario-kit.js'
import { KEY_PREFIX } from '../lib/bench-env.js'
import { PORTFOLIOS_PER_USER } from '../lib/seed.js'
import type { Measurement, RequestSpec } from '../lib/load.js'

function itemCount (body: string): number {
  try {
    return (JSON.parse(body) as { items?: unknown[] }).items?.length ?? -1
  } catch {
    return -1
  }
}

export const rlsRead: Scenario = {
  name: 'rls-read',
  title: 'GET /api/portfolios under RLS, and the same query without RLS (plain-portfolios peer)',
  run: async ctx => {
    const spec: RequestSpec = { path: '/api/portfolios', headerSets: cookieHeaders(ctx.bench.config.session.cookieName, ctx.seed.sessionTokens) }
    const problems: string[] = []
    const measurements: Measurement[] = []

    const ours = await withChild(startServer(ctx.bench, 'server'), async server => {
      const first = await firstReply(server.url, spec)
      if (first.status === 404) return null
      if (itemCount(first.body) !== PORTFOLIOS_PER_USER) problems.push(`ours: GET /api/portfolios returned ${itemCount(first.body)} items, expected ${PORTFOLIOS_PER_USER}`)
      return measureTarget(ctx, server, 'rls-read', 'ours: GET /api/portfolios (RLS)', 'ours', spec)
    })
    if (!ours) {
      return {
        ...scenarioResult(rlsRead, []),
        status: 'skipped',
        notes: ['skipped: GET /api/portfolios answers 404 (the portfolio routes are not registered in the server yet)']
      }
    }
    measurements.push(ours)

    const env = { REDIS_URL: ctx.bench.redisUrl, KEY_PREFIX, DATABASE_ADMIN_URL: ctx.bench.adminUrl, PG_POOL_MAX: String(ctx.bench.config.db.poolMax) }
    measurements.push(await withChild(startPeer('plain-portfolios.ts', env), async peer => {
      const first = await firstReply(peer.url, spec)
      // a non-superuser owner is bound by FORCE RLS and would see nothing: then the ratio is void
      if (itemCount(first.body) !== PORTFOLIOS_PER_USER) problems.push(`plain peer returned ${itemCount(first.body)} items, expected ${PORTFOLIOS_PER_USER}: is DATABASE_ADMIN_URL a superuser?`)
      return measureTarget(ctx, peer, 'peer:plain-portfolios', 'peer: same SELECT, no RLS', 'peer', spec)
    }))
    return scenarioResult(rlsRead, measurements, [
      `each user has ${PORTFOLIOS_PER_USER} portfolios; the page is the route's default (limit 50)`,
      'the plain peer finds the user with one Redis GET of the cookie (a key seeded per session), as ours makes one Redis round trip to validate the session'
    ], { problems })
  }
}
