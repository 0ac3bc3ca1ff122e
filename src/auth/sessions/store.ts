// Redis-first sessions, in the shape of Lucia's: a plain record and create / validate /
// revoke. The client holds `<user tag>.<secret>`; Redis holds the record under SHA-256 of the
// secret, so a Redis dump holds no usable credential. The public id shown in device lists is
// a separate random handle, never the secret. Each call is one round trip. Validation, the call
// on every request, is one MGET (the session's record, one string, and the user's credential
// version; no script); a small script slides the idle expiry at most once per touch interval.
// The record's layout is redis-record.ts; sessions an earlier build stored as hashes are read too.
//
// With the durable record (records.ts) and a breaker (redis-breaker.ts), Postgres holds the truth:
// a login writes its row before Redis, a revocation commits in Postgres before Redis is touched,
// and while Redis is unreachable validation reads the row by key hash instead (never a revoked,
// expired or version-bumped one). After Redis lost its data the live rows are put back (restore.ts).
import { hash, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../../infra/redis.js'
import { CREATE, FORGET, LIST, READ_HASH, RESTORE, REVOKE, TOUCH } from './lua.js'
import { decodeRecord, recordTail, type RedisRecord } from './redis-record.js'
import { sessionCacheHits, sessionCacheMisses, sessionValidationSeconds } from './validation-metrics.js'
import type { SessionCache } from './cache.js'
import type { CreatedSession, NewSession, SessionSummary, ValidSession } from './types.js'
import { revocationChannel } from '../revocations.js'
import type { LiveRecord, RevokedRecord, SessionRecords } from './records.js'
import { isUnavailableError, type RedisBreaker } from './redis-breaker.js'
import { Errors } from '../../core/errors.js'

export interface SessionStoreOptions {
  keyPrefix: string
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  touchIntervalMs: number
  maxPerUser: number
  /** the connection the validation reads go through (infra/redis.ts autoPipelinedReader); default: the store's client */
  reader?: RedisClient
  /** how new records are written: 'string' (redis-record.ts), or 'hash' as earlier builds read them (a rolling upgrade) */
  recordFormat?: 'string' | 'hash'
}

export interface SessionStore {
  /** the Pub/Sub channel on which every revocation is published as a RevokedMessage */
  readonly channel: string
  /** null when the user's credentials were revoked after `credentialVersion` was read */
  create: (input: NewSession) => Promise<CreatedSession | null>
  /** null for a malformed token (without a Redis call), an unknown, expired or revoked one */
  validate: (token: string) => Promise<ValidSession | null>
  /** ends one session of the user; false when the user has no such session */
  revoke: (userId: string, publicId: string, reason: string) => Promise<boolean>
  /**
   * ends every session of the user but `exceptPublicId`; returns the public ids ended. With
   * `credentialVersion` (already committed in Postgres) it is a user-wide revocation: the
   * version key rises in the same atomic call, so no session older than it is accepted or created.
   */
  revokeAll: (userId: string, reason: string, exceptPublicId?: string, credentialVersion?: number) => Promise<string[]>
  list: (userId: string) => Promise<SessionSummary[]>
  /** puts back sessions Postgres holds as live; returns how many Redis did not have */
  restore: (records: LiveRecord[]) => Promise<number>
  /** removes sessions Postgres holds as revoked; returns how many Redis still had */
  forget: (records: RevokedRecord[]) => Promise<number>
  /**
   * while true (Redis lost its data and the repair pass runs), a Redis miss is looked up in
   * Postgres and put back at once; otherwise a miss is a plain "no such session"
   */
  restoring: boolean
}

/** Postgres as the truth behind Redis; without it the store is Redis-only (the bench's seeding) */
export interface DurableSessions {
  records: SessionRecords
  breaker: RedisBreaker
}

// 16 base64url chars of a tag, a dot, 43 of a 32-byte secret: nothing else reaches Redis
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/

// crypto.hash: one call, no Hash object per request (a third of createHash's cost here)
const sha256 = (text: string): string => hash('sha256', text, 'base64url')

/** the hash tag shared by all keys of one user: same slot on Redis Cluster */
export function userTag (userId: string): string {
  return sha256('user:' + userId).slice(0, 16)
}

interface ScriptCommands {
  hpSessionCreate: (...args: (string | number)[]) => Promise<(number | string)[] | null>
  hpSessionTouch: (...args: (string | number)[]) => Promise<[number, number] | null>
  /** the plain read (no script): the session's record and the user's credential version */
  hpSessionValidate: (sessionKey: string, versionKey: string) => Promise<(string | null)[]>
  /** a record an earlier build stored as a hash, in the string form; null for none */
  hpSessionReadHash: (sessionKey: string) => Promise<string | null>
  hpSessionRevoke: (...args: (string | number)[]) => Promise<string[]>
  hpSessionList: (...args: (string | number)[]) => Promise<[string, string][]>
  hpSessionRestore: (...args: (string | number)[]) => Promise<number>
  hpSessionForget: (...args: (string | number)[]) => Promise<number>
}

function defineScripts (redis: RedisClient, reader: RedisClient): ScriptCommands {
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (after a restart or flush)
  const r = redis as Redis
  const reads = reader as Redis
  // named on the client like the scripts: one seam through which every validation reads Redis.
  // One command on the auto-pipelined reader (with every other request's reads of this tick it
  // goes out in one write); both keys carry the user's tag, so on a cluster they go to one node
  Object.assign(r, {
    hpSessionValidate (sessionKey: string, versionKey: string) {
      return reads.mget(sessionKey, versionKey)
    }
  })
  if (!('hpSessionTouch' in r)) {
    r.defineCommand('hpSessionCreate', { numberOfKeys: 3, lua: CREATE })
    r.defineCommand('hpSessionTouch', { numberOfKeys: 1, lua: TOUCH })
    r.defineCommand('hpSessionReadHash', { numberOfKeys: 1, lua: READ_HASH })
    r.defineCommand('hpSessionRevoke', { numberOfKeys: 2, lua: REVOKE })
    r.defineCommand('hpSessionList', { numberOfKeys: 1, lua: LIST })
    r.defineCommand('hpSessionRestore', { numberOfKeys: 2, lua: RESTORE })
    r.defineCommand('hpSessionForget', { numberOfKeys: 2, lua: FORGET })
  }
  return r as unknown as ScriptCommands
}

const toValidSession = (r: LiveRecord | RedisRecord): ValidSession => ({
  userId: r.userId,
  email: r.email,
  role: r.role,
  publicId: r.publicId,
  ip: r.ip,
  userAgent: r.userAgent,
  device: r.device,
  createdAt: r.createdAt,
  lastSeenAt: r.lastSeenAt,
  idleExpiresAt: r.idleExpiresAt,
  absoluteExpiresAt: r.absoluteExpiresAt,
  touched: false
})

export function createSessionStore (redis: RedisClient, opts: SessionStoreOptions, cache?: SessionCache, durable?: DurableSessions): SessionStore {
  const scripts = defineScripts(redis, opts.reader ?? redis)
  const tailOf = (r: Parameters<typeof recordTail>[0]): string => opts.recordFormat === 'hash' ? '' : recordTail(r)
  const channel = revocationChannel(opts.keyPrefix)
  const sessionPrefix = (tag: string): string => `${opts.keyPrefix}{${tag}}:s:`
  const indexKey = (userId: string): string => `${opts.keyPrefix}{${userTag(userId)}}:idx:${userId}`
  // by tag alone, so VALIDATE can name it from the cookie without knowing the user id
  const versionKey = (tag: string): string => `${opts.keyPrefix}{${tag}}:cv`
  // every Redis call of the store goes through the breaker when there is one
  const viaRedis = <T>(fn: () => Promise<T>): Promise<T> => durable ? durable.breaker.run(fn) : fn()
  let restoring = false

  const restoreOne = (r: LiveRecord): Promise<number> => {
    const tag = userTag(r.userId)
    return scripts.hpSessionRestore(sessionPrefix(tag) + r.keyHash, indexKey(r.userId),
      r.keyHash, r.userId, r.email, r.role, r.publicId, r.createdAt, r.lastSeenAt, r.idleExpiresAt, r.absoluteExpiresAt,
      r.ip, r.userAgent, JSON.stringify(r.device), r.credentialVersion, tailOf(r))
  }

  // Redis could not answer (or has just lost this key during a restore): the row decides. The
  // session slides by the row's clock; the touch reaches Postgres through the last-seen batch.
  const fromPostgres = async (records: SessionRecords, keyHash: string, putBack: boolean): Promise<ValidSession | null> => {
    const record = await records.findLive(keyHash)
    if (!record) return null
    if (putBack) await viaRedis(() => restoreOne(record)).catch(() => { /* the repair pass will */ })
    const session = toValidSession(record)
    const now = Date.now()
    if (now - session.lastSeenAt >= opts.touchIntervalMs) {
      session.touched = true
      session.lastSeenAt = now
      session.idleExpiresAt = Math.min(now + opts.idleTimeoutMs, session.absoluteExpiresAt)
    }
    return session
  }

  // The common case is one read: MGET of the session's record and the user's credential
  // version, both in the user's slot. Redis expires the key at the idle expiry
  // (never later than the absolute one), so a key that exists is a live session by Redis' clock;
  // Node's clock only decides when to ask for a touch, and the touch script decides again.
  const validateToken = async (token: string): Promise<ValidSession | null> => {
    const dot = token.indexOf('.')
    const tag = token.slice(0, dot)
    const keyHash = sha256(token.slice(dot + 1))
    const key = sessionPrefix(tag) + keyHash
    if (cache?.active) {
      // a miss answers at once, without a promise to wait for
      const pending = cache.lookup(key)
      const cached = pending && await pending
      if (cached) {
        sessionCacheHits.inc()
        return cached
      }
      sessionCacheMisses.inc()
    }
    // a revocation heard while the read runs makes the fill below a no-op (see cache.ts)
    const generation = cache?.generation ?? 0
    let raw: string | null, version: string | null
    try {
      [raw = null, version = null] = await viaRedis(() => scripts.hpSessionValidate(key, versionKey(tag)))
      // MGET answers nil for a hash: a session an earlier build stored, asked for only on a miss
      raw ??= await viaRedis(() => scripts.hpSessionReadHash(key))
    } catch (err) {
      if (!durable || !isUnavailableError(err)) throw err
      return await fromPostgres(durable.records, keyHash, false)
    }
    const record = raw === null ? null : decodeRecord(raw)
    // no such key (unless Redis lost it and the repair pass has not reached it yet)
    if (record === null) return durable && restoring ? await fromPostgres(durable.records, keyHash, true) : null
    // created under an older version than the user's: swept by a user-wide revocation
    if (Number(version ?? 0) > record.credentialVersion) return null
    const session = toValidSession(record)
    if (Date.now() - session.lastSeenAt >= opts.touchIntervalMs) {
      let touched: [number, number] | null
      try {
        touched = await viaRedis(() => scripts.hpSessionTouch(key, opts.idleTimeoutMs, opts.touchIntervalMs))
      } catch (err) {
        // the read just vouched for the session; the slide waits for the next request
        if (!durable || !isUnavailableError(err)) throw err
        return session
      }
      if (!touched) return null // revoked or expired between the read and the touch
      session.touched = Number(touched[0]) !== session.lastSeenAt
      session.lastSeenAt = Number(touched[0])
      session.idleExpiresAt = Number(touched[1])
    }
    cache?.set(key, session, Date.now(), generation)
    return session
  }

  const createInRedis = (input: NewSession, tag: string, suffix: string, publicId: string): Promise<(number | string)[] | null> =>
    viaRedis(() => scripts.hpSessionCreate(
      sessionPrefix(tag) + suffix, indexKey(input.userId), versionKey(tag),
      sessionPrefix(tag), suffix, input.userId, input.role, publicId, input.ip,
      input.userAgent.slice(0, 512), JSON.stringify(input.device),
      opts.idleTimeoutMs, opts.absoluteTimeoutMs, opts.maxPerUser, channel, input.absoluteCapAt ?? 0, input.email,
      input.credentialVersion, tailOf({ ...input, publicId })
    ))

  return {
    channel,

    get restoring () { return restoring },
    set restoring (on: boolean) { restoring = on },

    async create (input) {
      const tag = userTag(input.userId)
      const secret = randomBytes(32).toString('base64url')
      const suffix = sha256(secret)
      const publicId = randomBytes(16).toString('base64url')
      let created: (number | string)[] | null
      if (durable) {
        // logins wait for Redis (see README "When parts fail"): no row for a login that cannot finish
        if (durable.breaker.open) throw new Errors.DEPENDENCY_UNAVAILABLE()
        await durable.records.insert({
          publicId,
          userId: input.userId,
          keyHash: suffix,
          credentialVersion: input.credentialVersion,
          idleTimeoutMs: opts.idleTimeoutMs,
          absoluteTimeoutMs: opts.absoluteTimeoutMs,
          absoluteCapAt: input.absoluteCapAt ?? 0,
          device: input.device,
          ip: input.ip,
          userAgent: input.userAgent
        })
        try {
          created = await createInRedis(input, tag, suffix, publicId)
        } catch (err) {
          await durable.records.abandon(publicId).catch(() => { /* no cookie was sent: nobody holds the secret */ })
          throw err
        }
        if (!created) await durable.records.abandon(publicId)
      } else {
        created = await createInRedis(input, tag, suffix, publicId)
      }
      if (!created) return null
      const [createdAt, idleExpiresAt, absoluteExpiresAt, ...evicted] = created
      cache?.invalidate(evicted.map(String))
      if (evicted.length > 0) await cache?.delivered()
      return {
        token: `${tag}.${secret}`,
        publicId,
        createdAt: Number(createdAt),
        idleExpiresAt: Number(idleExpiresAt),
        absoluteExpiresAt: Number(absoluteExpiresAt),
        evicted: evicted.map(String)
      }
    },

    async validate (token) {
      if (!TOKEN_PATTERN.test(token)) return null
      const started = process.hrtime.bigint()
      try {
        return await validateToken(token)
      } finally {
        sessionValidationSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9)
      }
    },

    async revoke (userId, publicId, reason) {
      const tag = userTag(userId)
      const revoked = await viaRedis(() => scripts.hpSessionRevoke(indexKey(userId), versionKey(tag), sessionPrefix(tag), userId, channel, reason, publicId, '', '', 0))
      cache?.invalidate(revoked) // this instance at once; the others through the channel
      if (revoked.length > 0) await cache?.delivered() // before the caller answers (see cache.ts)
      return revoked.length > 0
    },

    async revokeAll (userId, reason, exceptPublicId = '', credentialVersion) {
      const tag = userTag(userId)
      const revoked = await viaRedis(() => scripts.hpSessionRevoke(indexKey(userId), versionKey(tag), sessionPrefix(tag), userId, channel, reason, '', exceptPublicId,
        credentialVersion ?? '', Math.max(opts.absoluteTimeoutMs, 60_000)))
      cache?.invalidate(revoked)
      if (credentialVersion !== undefined) cache?.invalidateUser(userId)
      if (revoked.length > 0 || credentialVersion !== undefined) await cache?.delivered()
      return revoked
    },

    async list (userId) {
      const rows = await viaRedis(() => scripts.hpSessionList(indexKey(userId), sessionPrefix(userTag(userId))))
      return rows.flatMap(([publicId, raw]) => {
        const r = decodeRecord(raw)
        return r ? [{ publicId, createdAt: r.createdAt, lastSeenAt: r.lastSeenAt, expiresAt: Math.min(r.idleExpiresAt, r.absoluteExpiresAt), ip: r.ip, device: r.device }] : []
      })
    },

    async restore (records) {
      const written = await Promise.all(records.map(r => viaRedis(() => restoreOne(r))))
      return written.reduce((n, w) => n + Number(w), 0)
    },

    async forget (records) {
      const removed = await Promise.all(records.map(r => {
        const tag = userTag(r.userId)
        const message = JSON.stringify({ publicId: r.publicId, userId: r.userId, reason: 'revoked', at: Date.now() })
        return viaRedis(() => scripts.hpSessionForget(sessionPrefix(tag) + r.keyHash, indexKey(r.userId), r.keyHash, r.publicId, channel, message))
      }))
      cache?.invalidate(records.map(r => r.publicId))
      return removed.reduce((n, w) => n + Number(w), 0)
    }
  }
}
