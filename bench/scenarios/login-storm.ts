// 6. login-storm: N concurrent logins of N distinct users (one connection each, one POST
// /api/auth/login each, argon2id at the server's real cost), while a probe on its own
// connection asks GET /api/health every 10 ms. argon2 runs on libuv's pool, so the event loop
// should keep answering: the health p99 during the storm is the figure that says so.
import type { Scenario } from '../lib/context.js'
import { startServer } from '../lib/processes.js'
import { runLoad, type RequestSpec } from '../lib/load.js'
import { firstReply, scenarioResult, withChild } from '../lib/scenario-kit.js'
import { keepAliveAgent, send } from '../lib/http.js'
import { Samples, round, type Percentiles } from '../lib/stats.js'
import { PASSWORD, USER_AGENT } from '../lib/bench-env.js'

const PROBE_EVERY_MS = 10
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface Probe { samples: Samples; failures: number; stop: () => Promise<void> }

/** GET /api/health every 10 ms on one keep-alive connection, until stopped */
function startProbe (url: string): Probe {
  const agent = keepAliveAgent(1)
  const samples = new Samples()
  let running = true
  let failures = 0
  const loop = (async () => {
    while (running) { // eslint-disable-line no-unmodified-loop-condition -- stop(), below, sets it false from outside the loop
      const next = performance.now() + PROBE_EVERY_MS
      try {
        const r = await send(agent, url + '/api/health', { timeoutMs: 10_000 })
        samples.push(r.ms)
        if (r.status !== 200) failures++
      } catch {
        failures++
      }
      const wait = next - performance.now()
      if (wait > 0) await sleep(wait)
    }
    agent.destroy()
  })()
  return { samples, get failures () { return failures }, stop: async () => { running = false; await loop } }
}

const ms = (p: Percentiles) => ({ count: p.count, p50: round(p.p50), p99: round(p.p99), max: round(p.max) })

export const loginStorm: Scenario = {
  name: 'login-storm',
  title: 'Concurrent logins of distinct users (argon2id) with /api/health probes every 10 ms',
  run: async ctx => {
    // the first user checks the route before the storm; the others are the storm
    const [checkEmail, ...emails] = ctx.seed.loginEmails
    const spec: RequestSpec = {
      method: 'POST',
      path: '/api/auth/login',
      headerSets: [{ 'content-type': 'application/json', 'user-agent': USER_AGENT }],
      bodies: emails.map(email => JSON.stringify({ email, password: PASSWORD }))
    }
    return withChild(startServer(ctx.bench, 'server'), async server => {
      const check = await firstReply(server.url, { ...spec, bodies: [JSON.stringify({ email: checkEmail, password: PASSWORD })] })
      if (check.status !== 200) throw new Error(`login check answered ${check.status}: ${check.body.slice(0, 200)}`)

      const baseline = startProbe(server.url)
      await sleep(ctx.quick ? 500 : 1500)
      await baseline.stop()

      console.error(`bench:   ${emails.length} concurrent logins`)
      const probe = startProbe(server.url)
      const started = performance.now()
      const storm = await runLoad({ url: server.url, spec, connections: emails.length, amount: emails.length, timeoutS: 120 })
      const finishedS = (performance.now() - started) / 1000
      await probe.stop()

      const ok = storm.statusCodes['200'] ?? 0
      const problems: string[] = []
      if (storm.errors > 0) problems.push(`login-storm: ${storm.errors} errors (${storm.timeouts} timeouts)`)
      if (ok !== emails.length) problems.push(`login-storm: ${ok} of ${emails.length} logins answered 200 ${JSON.stringify(storm.statusCodes)}`)
      if (probe.failures + baseline.failures > 0) problems.push(`login-storm: ${probe.failures + baseline.failures} /api/health probes failed`)

      const details = {
        logins: emails.length,
        finishedS: round(finishedS),
        loginsPerSec: round(emails.length / finishedS, 1),
        loginLatencyMs: ms(storm.latencyMs),
        statusCodes: storm.statusCodes,
        healthBeforeMs: ms(baseline.samples.percentiles()),
        healthDuringMs: ms(probe.samples.percentiles())
      }
      return scenarioResult(loginStorm, [], [
        `${emails.length} users, all sharing one argon2id hash made with the server's parameters; one connection per login`,
        ...(ctx.quick ? ['quick mode: fewer logins than the full run (1,000)'] : [])
      ], { details, problems })
    })
  }
}
