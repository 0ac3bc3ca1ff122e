// 5. rls-read: GET /api/portfolios (one user's portfolios under RLS, one statement that sets its
// own context) beside its fair pair: the same server build and session check in the same
// process, with one route registered only by the bench that runs the same SELECT as the table
// owner without RLS (bench/peers/hallpass-with-bench-routes.ts). The two routes differ in RLS
// alone, measured in interleaved rounds; the ratio is what RLS costs.
import type { Scenario } from '../lib/context.js'
import { startPeer } from '../lib/processes.js'
import { cookieHeaders } from '../lib/requests.js'
import { firstReply, scenarioResult, withChild } from '../lib/scenario-kit.js'
import { PORTFOLIOS_PER_USER } from '../lib/seed.js'
import { describeRounds, measureInRounds, roundsRatio } from '../lib/rounds.js'
import type { RequestSpec } from '../lib/load.js'

function itemCount (body: string): number {
  try {
    return (JSON.parse(body) as { items?: unknown[] }).items?.length ?? -1
  } catch {
    return -1
  }
}

export const rlsRead: Scenario = {
  name: 'rls-read',
  title: 'GET /api/portfolios under RLS, and the same SELECT as the table owner in the same server (fair pair)',
  run: async ctx => {
    const headerSets = cookieHeaders(ctx.bench.config.session.cookieName, ctx.seed.sessionTokens)
    const ours: RequestSpec = { path: '/api/portfolios', headerSets }
    const owner: RequestSpec = { path: '/bench/portfolios-owner', headerSets }
    const problems: string[] = []
    return withChild(startPeer('hallpass-with-bench-routes.ts', ctx.bench.server), async server => {
      for (const [name, spec] of [['ours', ours], ['owner route', owner]] as const) {
        const first = await firstReply(server.url, spec)
        // a non-superuser owner is bound by FORCE RLS and would see nothing: then the ratio is void
        if (itemCount(first.body) !== PORTFOLIOS_PER_USER) problems.push(`${name}: ${spec.path} returned ${itemCount(first.body)} items, expected ${PORTFOLIOS_PER_USER} (status ${first.status})`)
      }
      const { measurements } = await measureInRounds(ctx, 'rls-read', [
        { child: server, key: 'rls-read', label: 'ours: GET /api/portfolios (RLS)', kind: 'ours', spec: ours, latency: true },
        { child: server, key: 'peer:rls-owner', label: 'peer: same server, same SELECT as owner, no RLS', kind: 'peer', spec: owner }
      ])
      const ratio = roundsRatio(ctx.rounds, 'rls-read', 'peer:rls-owner')
      return scenarioResult(rlsRead, measurements, [
        `each user has ${PORTFOLIOS_PER_USER} portfolios; the page is the route's default (limit 50)`,
        'both routes run in one process of our server (tsx-loaded src, the same code as the build) with the same authenticate hook; only the SELECT differs: under RLS as the app role, or as the table owner',
        ...(ratio ? [`rls-read ÷ fair pair: ${describeRounds(ratio)}`] : [])
      ], { problems })
    })
  }
}
