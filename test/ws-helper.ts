// Real sockets against apps listening on port 0: a client that records every frame and how
// (and when) it closed, and two app instances sharing one Redis key prefix.
import { once } from 'node:events'
import WebSocket from 'ws'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Env } from '../src/config/config.js'
import { build, uniquePrefix } from './helper.js'
import { ORIGIN } from './auth-helper.js'

export const FEED_ENV: Env = { PRICE_TICK_MS: '50', PRICE_LEADER_TTL: '1s' }

export async function listening (app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('no port')
  return `ws://127.0.0.1:${address.port}/ws/prices`
}

/** two instances on one Redis prefix, both listening */
export async function twoInstances (t: Test, env: Env = {}): Promise<{ a: FastifyInstance; b: FastifyInstance; urlA: string; urlB: string }> {
  const shared = { ...FEED_ENV, REDIS_KEY_PREFIX: uniquePrefix(), ...env }
  const a = await build(t, shared)
  const b = await build(t, shared)
  return { a, b, urlA: await listening(a), urlB: await listening(b) }
}

export interface Frame { type: string; [key: string]: unknown }

export interface FeedSocket {
  ws: WebSocket
  frames: Frame[]
  /** resolves when the socket opens, or with the HTTP status that refused the upgrade */
  opened: Promise<{ open: true } | { open: false; status: number; body: string }>
  closed: Promise<{ code: number; reason: string; at: number }>
  next: (match: (f: Frame) => boolean, timeoutMs?: number) => Promise<Frame>
  send: (value: unknown) => void
}

export function connect (url: string, headers: Record<string, string> = {}): FeedSocket {
  const ws = new WebSocket(url, { headers, perMessageDeflate: false })
  const frames: Frame[] = []
  const waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = []
  ws.on('message', data => {
    const f = JSON.parse(data.toString()) as Frame
    frames.push(f)
    for (const w of [...waiters]) {
      if (w.match(f)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(f)
      }
    }
  })
  ws.on('error', () => {})
  const opened = new Promise<{ open: true } | { open: false; status: number; body: string }>(resolve => {
    ws.once('open', () => resolve({ open: true }))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (d: Buffer) => { body += d })
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, body }))
      res.on('error', () => resolve({ open: false, status: res.statusCode ?? 0, body }))
    })
  })
  const closed = new Promise<{ code: number; reason: string; at: number }>(resolve => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() }))
  })
  return {
    ws,
    frames,
    opened,
    closed,
    send: value => ws.send(typeof value === 'string' ? value : JSON.stringify(value)),
    next (match, timeoutMs = 5000) {
      const seen = frames.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching frame in time')), timeoutMs)
        waiters.push({ match, resolve: f => { clearTimeout(timer); resolve(f) } })
      })
    }
  }
}

/** a browser's socket: its cookie and our Origin; resolves once the server admitted it */
export async function browserSocket (url: string, cookie: string, extra: Record<string, string> = {}): Promise<FeedSocket> {
  const s = connect(url, { cookie, origin: ORIGIN, ...extra })
  const o = await s.opened
  if (!o.open) throw new Error(`upgrade refused: ${o.status} ${o.body}`)
  await s.next(f => f.type === 'ready')
  return s
}

export async function closeAll (sockets: FeedSocket[]): Promise<void> {
  await Promise.all(sockets.map(async s => {
    if (s.ws.readyState === WebSocket.CLOSED) return
    s.ws.terminate()
    await once(s.ws, 'close').catch(() => {})
  }))
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
