// 2. session-validate: GET /api/auth/me with 10,000 distinct session cookies round robin, one
// server start with the in-process near cache at its default and one with SESSION_CACHE_TTL=0.
// After each run the server's own validation histogram (hallpass_session_validation_seconds)
// is read from /metrics: the server's, or the bench's own route where the build has none yet.
import { readFile } from 'node:fs/promises'
import type { Scenario } from '../lib/context.js'
import { REPO_ROOT, startPeer } from '../lib/processes.js'
import { cookieHeaders } from '../lib/requests.js'
import { measureTarget, scenarioResult, withChild } from '../lib/scenario-kit.js'
import { readValidationMetrics, type MetricsReading } from '../lib/metrics.js'
import type { Measurement } from '../lib/load.js'
import { round } from '../lib/stats.js'

/** whether the built server reads SESSION_CACHE_TTL at all (until it does, on = off) */
async function serverKnowsCacheTtl (): Promise<boolean> {
  const source = await readFile(REPO_ROOT + 'dist/src/config/config.js', 'utf8').catch(() => '')
  return source.includes('SESSION_CACHE_TTL')
}

export const sessionValidate: Scenario = {
  name: 'session-validate',
  title: 'GET /api/auth/me, 10,000 session cookies round robin; near cache on and off',
  run: async ctx => {
    const all = cookieHeaders(ctx.bench.config.session.cookieName, ctx.seed.sessionTokens)
    const spec = { path: '/api/auth/me', headerSets: all }
    // the migration plan's 1,000+ concurrent users: each cookie comes back far within the TTL
    const active1k = { path: '/api/auth/me', headerSets: all.slice(0, 1000) }
    const variants = [
      { key: 'session-validate:cache-on-1k', label: 'ours: session (cache on, 1,000 active)', env: { SESSION_CACHE_TTL: undefined }, spec: active1k },
      // undefined removes the variable: the server's default, i.e. the cache on
      { key: 'session-validate:cache-on', label: 'ours: session (cache on)', env: { SESSION_CACHE_TTL: undefined } },
      { key: 'session-validate:cache-off', label: 'ours: session (cache off)', env: { SESSION_CACHE_TTL: '0' } }
    ]
    const measurements: Measurement[] = []
    const metrics: Record<string, MetricsReading> = {}
    for (const v of variants) {
      // our server with the bench's /metrics when the build serves none yet (see the peer's header)
      await withChild(startPeer('hallpass-with-bench-routes.ts', { ...ctx.bench.server, ...v.env }), async server => {
        measurements.push(await measureTarget(ctx, server, v.key, v.label, 'ours', v.spec ?? spec))
        metrics[v.key] = await readValidationMetrics(server.url)
      })
    }
    const notes = [
      'cache on = SESSION_CACHE_TTL unset (the server default); cache off = SESSION_CACHE_TTL=0',
      `server-side, cache on: ${metrics['session-validate:cache-on']?.note ?? 'not read'}`,
      `server-side, cache off: ${metrics['session-validate:cache-off']?.note ?? 'not read'}`
    ]
    // round robin brings each cookie back every N/rate seconds: the cache only hits under its TTL
    const on = measurements.find(m => m.key === 'session-validate:cache-on')
    const ttlMs = ctx.bench.config.session.cacheTtlMs
    if (on && ttlMs > 0) {
      const reuseS = ctx.seed.sessionTokens.length / on.saturation.reqPerSec
      const ttlS = ttlMs / 1000
      const verdict = reuseS < 0.8 * ttlS
        ? 'well under the cache TTL: repeats hit the cache'
        : reuseS > 1.2 * ttlS
          ? 'over the cache TTL: most lookups miss, so this run mostly measures the miss path'
          : 'close to the cache TTL: the hit rate rose and fell with the throughput during the run'
      notes.push(`cache on: each cookie came back every ${round(reuseS)} s at saturation (${ctx.seed.sessionTokens.length.toLocaleString('en')} cookies round robin; cache TTL ${ttlS} s), ${verdict}`)
    }
    if (!(await serverKnowsCacheTtl())) {
      notes.push('the built server does not read SESSION_CACHE_TTL yet: both variants ran the same code (their gap is noise)')
    }
    return scenarioResult(sessionValidate, measurements, notes, { details: { metrics } })
  }
}
