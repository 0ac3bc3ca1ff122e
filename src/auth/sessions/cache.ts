// The near cache: validated sessions kept in process for at most SESSION_CACHE_TTL (1 s by
// default), so most requests make no Redis round trip. Revocations reach every instance
// through the revocation channel and evict the entry at once; an entry is never trusted
// past its own idle or absolute expiry. While the subscription is down the cache is emptied
// and bypassed, so a revocation it could not hear about can never be served from it.
import { LRUCache } from 'lru-cache'
import { Cluster } from 'ioredis'
import type { FastifyBaseLogger } from 'fastify'
import type { RedisClient } from '../../infra/redis.js'
import type { ValidSession } from './types.js'
import { parseRevokedMessage } from '../revocations.js'

export interface SessionCache {
  /** true while the revocation subscription is live; otherwise get() always misses */
  readonly active: boolean
  get: (key: string, now: number) => ValidSession | undefined
  set: (key: string, session: ValidSession, now: number) => void
  invalidate: (publicIds: Iterable<string>) => void
  close: () => Promise<void>
  /** the subscriber connection (tests cut it to prove the cache empties) */
  readonly subscriber: RedisClient
}

interface Entry { session: ValidSession; trustUntil: number }

export function createSessionCache (
  redis: RedisClient, channel: string, opts: { ttlMs: number; max: number }, log: FastifyBaseLogger
): SessionCache {
  const keysByPublicId = new Map<string, string>()
  // dispose runs on delete, overwrite and LRU eviction alike, so the map never outgrows the cache
  const entries = new LRUCache<string, Entry>({ max: opts.max, dispose: e => keysByPublicId.delete(e.session.publicId) })
  let active = false

  const drop = (key: string): void => { entries.delete(key) }
  const deactivate = (why: string): void => {
    if (active) log.warn({ why }, 'session cache: invalidation link down, cache emptied and bypassed')
    active = false
    entries.clear()
    keysByPublicId.clear()
  }

  // a subscriber may queue its SUBSCRIBE until connected, and keeps retrying in the background
  const subscriberOptions = { enableOfflineQueue: true, maxRetriesPerRequest: null }
  const subscriber: RedisClient = redis instanceof Cluster
    ? redis.duplicate(undefined, { redisOptions: subscriberOptions })
    : redis.duplicate(subscriberOptions)
  subscriber.on('message', (_channel: string, payload: string) => {
    const message = parseRevokedMessage(payload)
    if (message === null) {
      deactivate('unreadable revocation message') // fail closed
      return
    }
    if (message.publicId !== undefined) {
      const key = keysByPublicId.get(message.publicId)
      if (key) drop(key)
    } else if (message.jti === undefined) {
      // every credential of the user ended: drop all of the user's entries (rare, so a scan)
      for (const [key, entry] of entries.entries()) if (entry.session.userId === message.userId) drop(key)
    }
  })
  subscriber.on('ready', () => {
    subscriber.subscribe(channel).then(() => { active = true }, err => deactivate((err as Error).message))
  })
  for (const event of ['close', 'end', 'reconnecting']) subscriber.on(event, () => deactivate(event))
  subscriber.on('error', () => { /* logged by the main client; close/reconnecting follow */ })

  return {
    get active () { return active },
    subscriber,
    get (key, now) {
      if (!active) return undefined
      const e = entries.get(key)
      if (!e) return undefined
      if (now >= e.trustUntil) {
        drop(key)
        return undefined
      }
      return e.session
    },
    set (key, session, now) {
      if (!active) return
      const trustUntil = Math.min(now + opts.ttlMs, session.idleExpiresAt, session.absoluteExpiresAt)
      if (trustUntil <= now) return
      entries.set(key, { session: { ...session, touched: false }, trustUntil })
      keysByPublicId.set(session.publicId, key)
    },
    invalidate (publicIds) {
      for (const publicId of publicIds) {
        const key = keysByPublicId.get(publicId)
        if (key) drop(key)
      }
    },
    async close () {
      deactivate('closing')
      subscriber.removeAllListeners('close')
      await subscriber.quit().catch(() => subscriber.disconnect())
    }
  }
}
