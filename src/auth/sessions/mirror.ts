// The durable copy of each session in Postgres (user_sessions), for audits and for admins
// who need history after Redis has expired a key. Written off the request path: creations
// and revocations are fire-and-forget, last-seen times are batched (one UPDATE per flush).
import type { FastifyBaseLogger } from 'fastify'
import type { Sql } from '../../infra/db.js'
import type { Device } from './store.js'
import { normalizeIp } from '../../audit/audit-log.js'

export interface MirroredSession {
  publicId: string
  userId: string
  createdAt: number
  expiresAt: number
  device: Device
  ip: string | null
  userAgent: string
}

export interface SessionMirror {
  created: (s: MirroredSession) => void
  revoked: (publicIds: string[], reason: string) => void
  seen: (publicId: string, at: number) => void
  /** writes pending last-seen times and waits for writes in flight */
  flush: () => Promise<void>
  close: () => Promise<void>
}


export function createSessionMirror (sql: Sql, log: FastifyBaseLogger, flushEveryMs = 10_000): SessionMirror {
  const lastSeen = new Map<string, number>()
  const inFlight = new Set<Promise<unknown>>()
  // inserts not yet acknowledged, by public id: a revocation waits for its session's insert,
  // since the two run on different pooled connections and the UPDATE could otherwise find no row
  const inserting = new Map<string, Promise<unknown>>()

  const track = (p: Promise<unknown>, what: string): void => {
    const done = p.catch(err => log.warn({ err: (err as Error).message }, `session mirror: ${what} failed`))
      .finally(() => inFlight.delete(done))
    inFlight.add(done)
  }

  const flushSeen = async (): Promise<void> => {
    if (lastSeen.size === 0) return
    const ids = [...lastSeen.keys()]
    const times = ids.map(id => new Date(lastSeen.get(id)!).toISOString())
    lastSeen.clear()
    await sql`
      update user_sessions s set last_seen_at = v.at
      from unnest(${ids}::text[], ${times}::timestamptz[]) as v(id, at)
      where s.public_id = v.id and s.last_seen_at < v.at`
  }

  const timer = setInterval(() => track(flushSeen(), 'last-seen batch'), flushEveryMs)
  timer.unref()

  return {
    created: s => {
      const insert = Promise.resolve(sql`
        insert into user_sessions (public_id, user_id, created_at, last_seen_at, expires_at, device, ip, user_agent)
        values (${s.publicId}, ${s.userId}, ${new Date(s.createdAt)}, ${new Date(s.createdAt)}, ${new Date(s.expiresAt)},
                ${sql.json({ ...s.device })}, ${normalizeIp(s.ip)}, ${s.userAgent.slice(0, 512)})
        on conflict (public_id) do nothing`)
      inserting.set(s.publicId, insert)
      track(insert.finally(() => { if (inserting.get(s.publicId) === insert) inserting.delete(s.publicId) }), 'insert')
    },
    revoked: (publicIds, reason) => {
      if (publicIds.length === 0) return
      const pending = publicIds.flatMap(id => inserting.get(id) ?? [])
      track(Promise.allSettled(pending).then(() => sql`update user_sessions set revoked_at = now(), revoked_reason = ${reason}
                where public_id = any(${publicIds}::text[]) and revoked_at is null`), 'revoke')
    },
    seen: (publicId, at) => { lastSeen.set(publicId, at) },
    flush: async () => {
      await flushSeen()
      await Promise.all(inFlight)
    },
    close: async () => {
      clearInterval(timer)
      await flushSeen().catch(err => log.warn({ err: (err as Error).message }, 'session mirror: final flush failed'))
      await Promise.all(inFlight)
    }
  }
}
