// Redis-first sessions, in the shape of Lucia's: a plain record and create / validate /
// revoke. The client holds `<user tag>.<secret>`; Redis holds the record under SHA-256 of the
// secret, so a Redis dump holds no usable credential. The public id shown in device lists is
// a separate random handle, never the secret. Each call is one round trip. Validation, the call
// on every request, is a plain read (the session hash and the user's credential version, one
// pipelined round trip, no script); a small script slides the idle expiry at most once per
// touch interval.
import { createHash, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../../infra/redis.js'
import type { Role } from '../context.js'
import { CREATE, LIST, REVOKE, TOUCH } from './lua.js'
import { sessionCacheHits, sessionCacheMisses, sessionValidationSeconds } from './validation-metrics.js'
import type { SessionCache } from './cache.js'
import type { CreatedSession, Device, NewSession, SessionSummary, ValidSession } from './types.js'
import { revocationChannel } from '../revocations.js'

export interface SessionStoreOptions {
  keyPrefix: string
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  touchIntervalMs: number
  maxPerUser: number
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
}

// 16 base64url chars of a tag, a dot, 43 of a 32-byte secret: nothing else reaches Redis
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/

// the session hash fields a validation reads, in the order validateToken indexes them
const FIELDS = ['uid', 'role', 'pid', 'ip', 'ua', 'dev', 'cre', 'seen', 'idle', 'abs', 'em', 'cv']

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url')

/** the hash tag shared by all keys of one user: same slot on Redis Cluster */
export function userTag (userId: string): string {
  return sha256('user:' + userId).slice(0, 16)
}

interface ScriptCommands {
  hpSessionCreate: (...args: (string | number)[]) => Promise<(number | string)[] | null>
  hpSessionTouch: (...args: (string | number)[]) => Promise<[number, number] | null>
  /** the plain read (no script): the session's FIELDS and the user's credential version */
  hpSessionValidate: (sessionKey: string, versionKey: string) => Promise<[(string | null)[], string | null]>
  hpSessionRevoke: (...args: (string | number)[]) => Promise<string[]>
  hpSessionList: (...args: (string | number)[]) => Promise<[string, string, string, string, string, string, string][]>
}

function defineScripts (redis: RedisClient): ScriptCommands {
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (after a restart or flush)
  const r = redis as Redis
  if (!('hpSessionTouch' in r)) {
    r.defineCommand('hpSessionCreate', { numberOfKeys: 3, lua: CREATE })
    r.defineCommand('hpSessionTouch', { numberOfKeys: 1, lua: TOUCH })
    // named on the client like the scripts: one seam through which every validation reads Redis
    Object.assign(r, {
      async hpSessionValidate (sessionKey: string, versionKey: string) {
        // one round trip; both keys carry the user's tag, so a cluster pipeline stays in one slot
        const replies = await r.pipeline().hmget(sessionKey, ...FIELDS).get(versionKey).exec()
        for (const [err] of replies ?? []) if (err) throw err
        return [replies![0]![1], replies![1]![1]]
      }
    })
    r.defineCommand('hpSessionRevoke', { numberOfKeys: 2, lua: REVOKE })
    r.defineCommand('hpSessionList', { numberOfKeys: 1, lua: LIST })
  }
  return r as unknown as ScriptCommands
}

function parseDevice (json: string): Device {
  try {
    const d = JSON.parse(json) as Partial<Device>
    return { browser: d.browser ?? 'unknown', os: d.os ?? 'unknown', type: d.type ?? 'unknown' }
  } catch {
    return { browser: 'unknown', os: 'unknown', type: 'unknown' }
  }
}

export function createSessionStore (redis: RedisClient, opts: SessionStoreOptions, cache?: SessionCache): SessionStore {
  const scripts = defineScripts(redis)
  const channel = revocationChannel(opts.keyPrefix)
  const sessionPrefix = (tag: string): string => `${opts.keyPrefix}{${tag}}:s:`
  const indexKey = (userId: string): string => `${opts.keyPrefix}{${userTag(userId)}}:idx:${userId}`
  // by tag alone, so VALIDATE can name it from the cookie without knowing the user id
  const versionKey = (tag: string): string => `${opts.keyPrefix}{${tag}}:cv`

  // The common case is one pipelined read: HMGET of the session hash and GET of the user's
  // credential version, both in the user's slot. Redis expires the key at the idle expiry
  // (never later than the absolute one), so a key that exists is a live session by Redis' clock;
  // Node's clock only decides when to ask for a touch, and the touch script decides again.
  const validateToken = async (token: string): Promise<ValidSession | null> => {
    const dot = token.indexOf('.')
    const tag = token.slice(0, dot)
    const key = sessionPrefix(tag) + sha256(token.slice(dot + 1))
    if (cache?.active) {
      const cached = cache.get(key, Date.now())
      if (cached) {
        sessionCacheHits.inc()
        return cached
      }
      sessionCacheMisses.inc()
    }
    // a revocation heard while the read runs makes the fill below a no-op (see cache.ts)
    const generation = cache?.generation ?? 0
    const [v, version] = await scripts.hpSessionValidate(key, versionKey(tag))
    const current = Number(version ?? 0)
    // uid missing: no such key; cv older than the user's version: swept by a user-wide revocation
    if (v[0] === null || current > Number(v[11] ?? 0)) return null
    const session: ValidSession = {
      userId: v[0]!,
      email: v[10] ?? '',
      role: v[1] as Role,
      publicId: v[2]!,
      ip: v[3] ?? '',
      userAgent: v[4] ?? '',
      device: parseDevice(v[5] ?? '{}'),
      createdAt: Number(v[6]),
      lastSeenAt: Number(v[7]),
      idleExpiresAt: Number(v[8]),
      absoluteExpiresAt: Number(v[9]),
      touched: false
    }
    if (Date.now() - session.lastSeenAt >= opts.touchIntervalMs) {
      const touched = await scripts.hpSessionTouch(key, opts.idleTimeoutMs, opts.touchIntervalMs)
      if (!touched) return null // revoked or expired between the read and the touch
      session.touched = Number(touched[0]) !== session.lastSeenAt
      session.lastSeenAt = Number(touched[0])
      session.idleExpiresAt = Number(touched[1])
    }
    cache?.set(key, session, Date.now(), generation)
    return session
  }

  return {
    channel,

    async create (input) {
      const tag = userTag(input.userId)
      const secret = randomBytes(32).toString('base64url')
      const suffix = sha256(secret)
      const publicId = randomBytes(16).toString('base64url')
      const created = await scripts.hpSessionCreate(
        sessionPrefix(tag) + suffix, indexKey(input.userId), versionKey(tag),
        sessionPrefix(tag), suffix, input.userId, input.role, publicId, input.ip,
        input.userAgent.slice(0, 512), JSON.stringify(input.device),
        opts.idleTimeoutMs, opts.absoluteTimeoutMs, opts.maxPerUser, channel, input.absoluteCapAt ?? 0, input.email,
        input.credentialVersion
      )
      if (!created) return null
      const [createdAt, idleExpiresAt, absoluteExpiresAt, ...evicted] = created
      cache?.invalidate(evicted.map(String))
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
      const revoked = await scripts.hpSessionRevoke(indexKey(userId), versionKey(tag), sessionPrefix(tag), userId, channel, reason, publicId, '', '', 0)
      cache?.invalidate(revoked) // this instance at once; the others through the channel
      return revoked.length > 0
    },

    async revokeAll (userId, reason, exceptPublicId = '', credentialVersion) {
      const tag = userTag(userId)
      const revoked = await scripts.hpSessionRevoke(indexKey(userId), versionKey(tag), sessionPrefix(tag), userId, channel, reason, '', exceptPublicId,
        credentialVersion ?? '', Math.max(opts.absoluteTimeoutMs, 60_000))
      cache?.invalidate(revoked)
      if (credentialVersion !== undefined) cache?.invalidateUser(userId)
      return revoked
    },

    async list (userId) {
      const rows = await scripts.hpSessionList(indexKey(userId), sessionPrefix(userTag(userId)))
      return rows.map(([publicId, cre, seen, idle, abs, ip, dev]) => ({
        publicId,
        createdAt: Number(cre),
        lastSeenAt: Number(seen),
        expiresAt: Math.min(Number(idle), Number(abs)),
        ip,
        device: parseDevice(dev)
      }))
    }
  }
}
