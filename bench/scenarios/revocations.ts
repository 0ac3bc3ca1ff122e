// 7. revocations: 100 revocations a second (DELETE /api/auth/sessions/:id with another cookie
// of the same user and an allowed Origin) on instance A while session-validate load runs on
// it. After each DELETE returns, GET /api/auth/me with the revoked cookie is polled from other
// connections, on A and on a second instance B sharing Redis, until it answers 401: that
// wait is the revoke-to-rejection time. Each victim is used on both instances just before
// its revocation, so a near cache holding it would have to be invalidated, not just missed.
import type { Scenario } from '../lib/context.js'
import { startServer, type Child } from '../lib/processes.js'
import { runLoad } from '../lib/load.js'
import { keepAliveAgent, send } from '../lib/http.js'
import { cookieHeaders } from '../lib/requests.js'
import { scenarioResult } from '../lib/scenario-kit.js'
import { createSessions, REVOCATION_USERS } from '../lib/seed.js'
import { Samples, round, type Percentiles } from '../lib/stats.js'
import { ORIGIN, USER_AGENT } from '../lib/bench-env.js'
import type http from 'node:http'

const RATE = 100
const GIVE_UP_MS = 5000
const FALLBACK_BACKGROUND_RATE = 5000
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const ms = (p: Percentiles) => ({ count: p.count, p50: round(p.p50), p99: round(p.p99), max: round(p.max) })

interface Poll { ms: number | null; acceptedAfterRevoke: number }

/** GET /api/auth/me with the revoked cookie until 401; null if it is still accepted after 5 s */
async function untilRejected (agent: http.Agent, server: Child, headers: Record<string, string>, revokedAt: number): Promise<Poll> {
  let accepted = 0
  while (performance.now() - revokedAt < GIVE_UP_MS) {
    const r = await send(agent, server.url + '/api/auth/me', { headers })
    if (r.status === 401) return { ms: performance.now() - revokedAt, acceptedAfterRevoke: accepted }
    accepted++
  }
  return { ms: null, acceptedAfterRevoke: accepted }
}

export const revocations: Scenario = {
  name: 'revocations',
  title: '100 revocations/s under session-validate load; revoke-to-rejection on the same and another instance',
  run: async ctx => {
    const durationS = ctx.quick ? 2 : 10
    const count = RATE * durationS
    const cookieName = ctx.bench.config.session.cookieName
    const actors = new Map((await createSessions(ctx.store, ctx.seed.revocationUsers, 1)).map(a => [a.user.id, a.session.token]))
    const victims = await createSessions(ctx.store, ctx.seed.revocationUsers, Math.ceil(count / REVOCATION_USERS))

    const sat = ctx.measurements.get('session-validate:cache-off')?.saturation.reqPerSec
    const backgroundRate = sat ? Math.round(sat / 2) : FALLBACK_BACKGROUND_RATE

    const a = await startServer(ctx.bench, 'server-a')
    let b: Child | null = null
    const revoker = keepAliveAgent(8)
    const pollA = keepAliveAgent(8)
    const pollB = keepAliveAgent(8)
    try {
      b = await startServer(ctx.bench, 'server-b')
      const serverB = b
      console.error(`bench:   ${count} revocations at ${RATE}/s, background ${backgroundRate} req/s`)
      const background = runLoad({
        url: a.url,
        spec: { path: '/api/auth/me', headerSets: cookieHeaders(cookieName, ctx.seed.sessionTokens) },
        connections: ctx.shape.rateConnections,
        overallRate: backgroundRate,
        durationS: durationS + 2
      })
      await sleep(1000)

      const revokeMs = new Samples()
      const sameMs = new Samples()
      const crossMs = new Samples()
      const accepted = { same: 0, cross: 0 }
      const problems: string[] = []
      let unlisted = 0
      const note = (p: string): void => { if (problems.length < 20) problems.push(p); else unlisted++ }

      const revokeOne = async (i: number): Promise<void> => {
        const v = victims[i]!
        const headers = { 'user-agent': USER_AGENT, cookie: `${cookieName}=${v.session.token}` }
        const warm = await Promise.all([send(pollA, a.url + '/api/auth/me', { headers }), send(pollB, serverB.url + '/api/auth/me', { headers })])
        if (warm.some(r => r.status !== 200)) note(`revocations: victim ${i} not accepted before its revocation (${warm.map(r => r.status).join('/')})`)
        const del = await send(revoker, `${a.url}/api/auth/sessions/${encodeURIComponent(v.session.publicId)}`, {
          method: 'DELETE',
          headers: { 'user-agent': USER_AGENT, origin: ORIGIN, cookie: `${cookieName}=${actors.get(v.user.id)}` }
        })
        const revokedAt = performance.now()
        revokeMs.push(del.ms)
        if (del.status !== 204) return note(`revocations: DELETE of victim ${i} answered ${del.status}: ${del.body.slice(0, 120)}`)
        const [same, cross] = await Promise.all([untilRejected(pollA, a, headers, revokedAt), untilRejected(pollB, serverB, headers, revokedAt)])
        accepted.same += same.acceptedAfterRevoke
        accepted.cross += cross.acceptedAfterRevoke
        if (same.ms === null || cross.ms === null) return note(`revocations: victim ${i} still accepted ${GIVE_UP_MS} ms after its revocation`)
        sameMs.push(same.ms)
        crossMs.push(cross.ms)
      }

      // one revocation every 10 ms on a fixed schedule, whatever the previous one is doing
      const tasks: Promise<void>[] = []
      const started = performance.now()
      for (let i = 0; i < count; i++) {
        const wait = started + i * (1000 / RATE) - performance.now()
        if (wait > 0) await sleep(wait)
        tasks.push(revokeOne(i).catch(err => note(`revocations: victim ${i}: ${(err as Error).message}`)))
      }
      await Promise.all(tasks)
      const revokeWindowS = (performance.now() - started) / 1000
      const load = await background

      if (unlisted > 0) problems.push(`revocations: ${unlisted} more problems like the above`)
      if (load.errors > 0) problems.push(`revocations: background load had ${load.errors} errors`)
      if (load.non2xx > 0) problems.push(`revocations: background load had ${load.non2xx} non-2xx ${JSON.stringify(load.statusCodes)}`)
      const details = {
        revocations: count,
        achievedPerSec: round(count / revokeWindowS, 1),
        revokeRequestMs: ms(revokeMs.percentiles()),
        sameInstanceMs: ms(sameMs.percentiles()),
        crossInstanceMs: ms(crossMs.percentiles()),
        acceptedAfterRevoke: accepted,
        background: { offered: backgroundRate, reqPerSec: load.reqPerSec, p99Ms: round(load.latencyMs.p99), errors: load.errors, non2xx: load.non2xx }
      }
      return scenarioResult(revocations, [], [
        'both instances run with the server default SESSION_CACHE_TTL; the time starts when the DELETE answer has arrived and includes the poll round trip',
        `background: session-validate on A at ${backgroundRate} req/s (half its saturation) on ${ctx.shape.rateConnections} connections`
      ], { details, problems })
    } finally {
      revoker.destroy()
      pollA.destroy()
      pollB.destroy()
      await Promise.all([a.stop(), b?.stop()])
    }
  }
}
