// The near cache: validated sessions kept in process for at most SESSION_CACHE_TTL, so most
// requests make no Redis round trip. Revocations reach every instance through the revocation
// channel and evict the entry at once; an entry is never trusted past its own idle or absolute
// expiry, nor past the moment its sliding touch falls due (a hit never skips a touch, so a session
// in use through the cache slides exactly as it would without it). While the subscription is
// down the cache is emptied and bypassed, so a revocation it could not hear about can never be
// served from it.
//
// Late fills: a validation reads Redis, then fills the cache. A revocation handled between the
// two would find nothing to evict and the fill would then cache a revoked session. So every
// revocation this instance hears or makes raises a generation counter; a validation notes the
// generation before its Redis call and set() drops the fill if it moved. A dropped fill is only
// a cache miss; a kept one is a session the Redis read saw after every revocation handled so far.
//
// Early hits: a request and a revocation message can become readable in the same turn of the
// event loop, the request's socket first. A hit is therefore answered only after the rest of
// that turn's I/O (setImmediate runs after the poll phase), so a revocation already delivered to
// this process is read before the hit is trusted. That only holds if the message reaches the other
// processes' sockets before the revocation is answered: Redis writes the revoking caller's reply
// before its subscribers' messages, so a revocation answered at once can beat its own message. A
// revocation is therefore answered only after delivered(): a PING on our subscriber connection,
// whose reply Redis sends after every message it published earlier, and after it has written those
// messages to every other subscriber too (one pass writes them all).
//
// Memory is bounded by count (SESSION_CACHE_MAX, the oldest fill out first) and by age. Entries
// live in one Map in fill order: the TTL is the same for all, so the oldest fill is the nearest to
// leaving anyway, and a sweep from the front deletes what has aged out, so an idle process holds
// nothing older than the TTL plus one sweep interval. A hit does not reorder: lru-cache's recency
// bookkeeping, and the expiry queue it needed beside it, cost the miss path of a cold cache about
// 4 % of the server's CPU (npm run bench:profile -- --cache=on --sessions=100000); a plain Map costs
// O(1) per fill and O(aged out) per sweep.
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { FastifyBaseLogger } from 'fastify'
import { subscriberFor, type RedisClient } from '../../infra/redis.js'
import type { ValidSession } from './types.js'
import { parseRevokedMessage } from '../revocations.js'

export interface SessionCache {
  /** true while the revocation subscription is live; otherwise lookup() always misses */
  readonly active: boolean
  /** raised by every revocation handled; read it before the Redis call whose result set() stores */
  readonly generation: number
  /** sessions held now (expired ones leave at the next sweep) */
  readonly size: number
  /**
   * undefined at once on a miss (no promise: the cold path pays nothing it need not); for a
   * candidate hit, the session once the revocations already delivered to this process have been read
   */
  lookup: (key: string) => Promise<ValidSession | undefined> | undefined
  /** stores the session unless a revocation was handled since `generation` was read */
  set: (key: string, session: ValidSession, now: number, generation: number) => void
  invalidate: (publicIds: Iterable<string>) => void
  /**
   * resolves once every revocation already published has reached this instance's subscriber, so
   * every other instance's socket too (at once while the subscription is down; bounded in time)
   */
  delivered: () => Promise<void>
  /** drops every entry of the user (a user-wide revocation) */
  invalidateUser: (userId: string) => void
  /** deletes every entry past its expiry (the timer calls it; tests may too) */
  sweep: (now: number) => void
  /** drops every entry (Redis lost its data: nothing cached from it can be vouched for) */
  clear: () => void
  close: () => Promise<void>
  /** the subscriber connection (tests cut it to prove the cache empties) */
  readonly subscriber: RedisClient
}

/** agedOutAt: the fill time plus the TTL, in fill order; trustUntil may come sooner (a touch due, an expiry) */
interface Entry { session: ValidSession; trustUntil: number; agedOutAt: number }

// how long a revocation waits for its message to come back before it answers anyway (a stalled
// subscriber is cut and the caches emptied by its own reconnect)
const DELIVERY_WAIT_MS = 1000

export function createSessionCache (
  redis: RedisClient, channel: string, opts: { ttlMs: number; max: number; touchIntervalMs: number }, log: FastifyBaseLogger
): SessionCache {
  const keysByPublicId = new Map<string, string>()
  const entries = new Map<string, Entry>()
  let active = false
  let generation = 0

  const drop = (key: string): void => {
    const e = entries.get(key)
    if (!e) return
    entries.delete(key)
    if (keysByPublicId.get(e.session.publicId) === key) keysByPublicId.delete(e.session.publicId)
  }
  const dropUser = (userId: string): void => {
    // rare, so a scan
    for (const [key, entry] of entries) if (entry.session.userId === userId) drop(key)
  }
  const empty = (): void => {
    entries.clear()
    keysByPublicId.clear()
  }
  const deactivate = (why: string): void => {
    if (active) log.warn({ why }, 'session cache: invalidation link down, cache emptied and bypassed')
    generation++
    active = false
    empty()
  }
  const fresh = (key: string, now: number): ValidSession | undefined => {
    const e = entries.get(key)
    if (!e) return undefined
    if (now >= e.trustUntil) {
      drop(key)
      return undefined
    }
    return e.session
  }
  const sweep = (now: number): void => {
    // fill order is aging order: stop at the first entry still young enough
    for (const [key, e] of entries) {
      if (e.agedOutAt > now) break
      drop(key)
    }
  }
  const sweeper = setInterval(() => sweep(Date.now()), Math.min(opts.ttlMs, 1000))
  sweeper.unref()

  const subscriber = subscriberFor(redis)
  subscriber.on('message', (_channel: string, payload: string) => {
    generation++ // before anything else: a fill in flight must not land after this message
    const message = parseRevokedMessage(payload)
    if (message === null) {
      deactivate('unreadable revocation message') // fail closed
      return
    }
    if (message.publicId !== undefined) {
      const key = keysByPublicId.get(message.publicId)
      if (key) drop(key)
    } else if (message.jti === undefined) {
      dropUser(message.userId) // every credential of the user ended
    }
  })
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(() => { generation++; active = true }, err => deactivate((err as Error).message))
  })
  for (const event of ['close', 'end', 'reconnecting']) subscriber.on(event, () => deactivate(event))
  subscriber.on('error', () => { /* logged by the main client; close/reconnecting follow */ })

  return {
    get active () { return active },
    get generation () { return generation },
    get size () { return entries.size },
    subscriber,
    lookup (key) {
      if (!active || fresh(key, Date.now()) === undefined) return undefined
      // the rest of this turn's I/O first: a revocation read there evicts the entry
      return nextTurn().then(() => active ? fresh(key, Date.now()) : undefined)
    },
    set (key, session, now, seen) {
      if (!active || seen !== generation) return
      const trustUntil = Math.min(now + opts.ttlMs, session.idleExpiresAt, session.absoluteExpiresAt, session.lastSeenAt + opts.touchIntervalMs)
      if (trustUntil <= now) return
      drop(key) // a refill goes to the back, in fill order
      entries.set(key, { session: { ...session, touched: false }, trustUntil, agedOutAt: now + opts.ttlMs })
      keysByPublicId.set(session.publicId, key)
      if (entries.size > opts.max) drop(entries.keys().next().value!)
    },
    invalidate (publicIds) {
      generation++
      for (const publicId of publicIds) {
        const key = keysByPublicId.get(publicId)
        if (key) drop(key)
      }
    },
    async delivered () {
      if (!active) return // nothing is served from this cache; the others' links are their own
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<void>(resolve => { timer = setTimeout(resolve, DELIVERY_WAIT_MS) })
      await Promise.race([subscriber.ping().then(() => {}, () => {}), bound])
      clearTimeout(timer)
    },
    invalidateUser (userId) {
      generation++
      dropUser(userId)
    },
    sweep,
    clear () {
      generation++
      empty()
    },
    async close () {
      clearInterval(sweeper)
      deactivate('closing')
      subscriber.removeAllListeners('close')
      await subscriber.quit().catch(() => subscriber.disconnect())
    }
  }
}
