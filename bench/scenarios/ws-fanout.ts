// 8. ws-fanout: live prices fanned out to many WebSockets on two instances sharing Redis.
// N sockets (1,000, then 5,000; 200 and 1,000 in quick mode) split evenly between A and B,
// each subscribed to one symbol, receive the leader's ticks (PRICE_TICK_MS 250); every price
// frame's latency is receipt time minus the leader's publish time (`ts`, same machine clock).
// Then revoke-to-close: sessions with a socket on B are revoked on A (DELETE
// /api/auth/sessions/:id with another session of the user), timed from the answer to the
// socket's close; any socket still open 2 s later is counted. Server RSS from /proc.
import { readFileSync } from 'node:fs'
import WebSocket from 'ws'
import type { Scenario } from '../lib/context.js'
import { startServer, type Child } from '../lib/processes.js'
import { keepAliveAgent, send } from '../lib/http.js'
import { scenarioResult } from '../lib/scenario-kit.js'
import { createSessions } from '../lib/seed.js'
import { Samples, round, type Percentiles } from '../lib/stats.js'
import { ORIGIN, USER_AGENT } from '../lib/bench-env.js'

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
const ms = (p: Percentiles) => ({ count: p.count, p50: round(p.p50), p99: round(p.p99), max: round(p.max) })
const OPEN_BATCH = 200

function rssMb (pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? round(Number(m[1]) / 1024, 1) : null
  } catch {
    return null
  }
}

interface Held { ws: WebSocket; closed: Promise<number> }

/** opens a socket with the cookie and resolves once the server admitted it */
function open (url: string, cookie: string, onPrice?: (ts: number) => void): Promise<Held> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { cookie, origin: ORIGIN, 'user-agent': USER_AGENT }, perMessageDeflate: false })
    const closed = new Promise<number>(resolve => ws.once('close', () => resolve(performance.now())))
    ws.once('error', reject)
    ws.on('message', (data: Buffer) => {
      const text = data.toString()
      if (text.startsWith('{"type":"price"')) {
        onPrice?.(Number(/"ts":(\d+)/.exec(text)?.[1]))
      } else if (text.startsWith('{"type":"ready"')) {
        ws.send('{"type":"subscribe","symbols":["AAPL"]}')
        resolve({ ws, closed })
      }
    })
  })
}

async function openMany (urls: string[], cookies: string[], onPrice: (ts: number) => void): Promise<Held[]> {
  const held: Held[] = []
  for (let i = 0; i < cookies.length; i += OPEN_BATCH) {
    held.push(...await Promise.all(cookies.slice(i, i + OPEN_BATCH).map((c, k) => open(urls[(i + k) % urls.length]!, c, onPrice))))
  }
  return held
}

export const wsFanout: Scenario = {
  name: 'ws-fanout',
  title: 'WebSocket price fan-out on two instances: tick latency, revoke-to-close, RSS',
  run: async ctx => {
    const counts = ctx.quick ? [200, 1000] : [1000, 5000]
    const measureMs = ctx.quick ? 2000 : 10_000
    const victimsCount = ctx.quick ? 20 : 100
    const cookieName = ctx.bench.config.session.cookieName
    const extra = { WS_MAX_PER_USER: '100', PRICE_TICK_MS: '250' }
    const a = await startServer(ctx.bench, 'server-a', extra)
    let b: Child | null = null
    const agent = keepAliveAgent(8)
    const problems: string[] = []
    const held: Held[] = []
    try {
      b = await startServer(ctx.bench, 'server-b', extra)
      const urls = [a, b].map(c => c.url.replace('http://', 'ws://') + '/ws/prices')
      const tickMs: Record<string, ReturnType<typeof ms>> = {}
      const rss: Record<string, { a: number | null; b: number | null }> = { idle: { a: rssMb(a.pid), b: rssMb(b.pid) } }
      let recording = false
      let samples = new Samples()
      const onPrice = (ts: number): void => { if (recording) samples.push(Date.now() - ts) }

      for (const n of counts) {
        const cookies = ctx.seed.sessionTokens.slice(held.length, n).map(t => `${cookieName}=${t}`)
        console.error(`bench:   opening ${cookies.length} more sockets (${n} in all)`)
        held.push(...await openMany(urls, cookies, onPrice))
        await sleep(1000)
        samples = new Samples()
        recording = true
        await sleep(measureMs)
        recording = false
        tickMs[String(n)] = ms(samples.percentiles())
        rss[String(n)] = { a: rssMb(a.pid), b: rssMb(b.pid) }
        const expected = (measureMs / 250) * n * 0.8
        if (samples.percentiles().count < expected) problems.push(`ws-fanout: only ${samples.percentiles().count} price frames at ${n} sockets (expected about ${Math.round(expected / 0.8)})`)
      }

      // revoke-to-close: victims hold a socket on B and are revoked on A
      const pairs = await createSessions(ctx.store, ctx.seed.revocationUsers, Math.ceil(victimsCount / ctx.seed.revocationUsers.length) + 1)
      const byUser = new Map<string, typeof pairs>()
      for (const p of pairs) byUser.set(p.user.id, [...(byUser.get(p.user.id) ?? []), p])
      const victims = [...byUser.values()].flatMap(list => list.slice(1).map(v => ({ victim: v, actor: list[0]! }))).slice(0, victimsCount)
      const sockets = await Promise.all(victims.map(v => open(urls[1]!, `${cookieName}=${v.victim.session.token}`)))
      const closeMs = new Samples()
      let leftOpen = 0
      await Promise.all(victims.map(async (v, i) => {
        await sleep(i * 10) // 100 a second
        const del = await send(agent, `${a.url}/api/auth/sessions/${encodeURIComponent(v.victim.session.publicId)}`, {
          method: 'DELETE',
          headers: { 'user-agent': USER_AGENT, origin: ORIGIN, cookie: `${cookieName}=${v.actor.session.token}` }
        })
        const answeredAt = performance.now()
        if (del.status !== 204) {
          problems.push(`ws-fanout: DELETE answered ${del.status}`)
          return
        }
        const at = await Promise.race([sockets[i]!.closed, sleep(2000).then(() => null)])
        if (at === null) leftOpen++
        else closeMs.push(Math.max(0, at - answeredAt))
      }))
      if (leftOpen > 0) problems.push(`ws-fanout: ${leftOpen} sockets still open 2 s after their revocation`)
      for (const s of sockets) s.ws.terminate()

      const details = { sockets: counts, tickMs, revokeToCloseMs: ms(closeMs.percentiles()), leftOpenAfterRevoke: leftOpen, rssMb: rss }
      return scenarioResult(wsFanout, [], [
        'sockets split evenly between two instances, each subscribed to one symbol, ticks every 250 ms; the load generator runs on the same machine and parses every frame',
        'tick latency: receipt minus the leader\'s publish time (ms clock); revoke-to-close: from the DELETE answer on A to the close seen on B'
      ], { details, problems })
    } finally {
      for (const h of held) h.ws.terminate()
      agent.destroy()
      await Promise.all([a.stop(), b?.stop()])
    }
  }
}
