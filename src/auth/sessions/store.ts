// Redis-first sessions, in the shape of Lucia's: a plain record and create / validate /
// revoke. The client holds `<user tag>.<secret>`; Redis holds the record under SHA-256 of the
// secret, so a Redis dump holds no usable credential. The public id shown in device lists is
// a separate random handle, never the secret. Each call is one round trip (one Lua script).
import { createHash, randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../../infra/redis.js'
import type { Role } from '../context.js'
import { CREATE, LIST, REVOKE, VALIDATE } from './lua.js'
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
  create: (input: NewSession) => Promise<CreatedSession>
  /** null for a malformed token (without a Redis call), an unknown, expired or revoked one */
  validate: (token: string) => Promise<ValidSession | null>
  /** ends one session of the user; false when the user has no such session */
  revoke: (userId: string, publicId: string, reason: string) => Promise<boolean>
  /** ends every session of the user but `exceptPublicId`; returns the public ids ended */
  revokeAll: (userId: string, reason: string, exceptPublicId?: string) => Promise<string[]>
  list: (userId: string) => Promise<SessionSummary[]>
}

// 16 base64url chars of a tag, a dot, 43 of a 32-byte secret: nothing else reaches Redis
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url')

/** the hash tag shared by all keys of one user: same slot on Redis Cluster */
export function userTag (userId: string): string {
  return sha256('user:' + userId).slice(0, 16)
}

interface ScriptCommands {
  hpSessionCreate: (...args: (string | number)[]) => Promise<(number | string)[]>
  hpSessionValidate: (...args: (string | number)[]) => Promise<[string, string, string, string, string, string, number, number, number, number, number, string] | null>
  hpSessionRevoke: (...args: (string | number)[]) => Promise<string[]>
  hpSessionList: (...args: (string | number)[]) => Promise<[string, string, string, string, string, string, string][]>
}

function defineScripts (redis: RedisClient): ScriptCommands {
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (after a restart or flush)
  const r = redis as Redis
  if (!('hpSessionValidate' in r)) {
    r.defineCommand('hpSessionCreate', { numberOfKeys: 2, lua: CREATE })
    r.defineCommand('hpSessionValidate', { numberOfKeys: 1, lua: VALIDATE })
    r.defineCommand('hpSessionRevoke', { numberOfKeys: 1, lua: REVOKE })
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

  return {
    channel,

    async create (input) {
      const tag = userTag(input.userId)
      const secret = randomBytes(32).toString('base64url')
      const suffix = sha256(secret)
      const publicId = randomBytes(16).toString('base64url')
      const [createdAt, idleExpiresAt, absoluteExpiresAt, ...evicted] = await scripts.hpSessionCreate(
        sessionPrefix(tag) + suffix, indexKey(input.userId),
        sessionPrefix(tag), suffix, input.userId, input.role, publicId, input.ip,
        input.userAgent.slice(0, 512), JSON.stringify(input.device),
        opts.idleTimeoutMs, opts.absoluteTimeoutMs, opts.maxPerUser, channel, input.absoluteCapAt ?? 0, input.email
      )
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
      const dot = token.indexOf('.')
      const key = sessionPrefix(token.slice(0, dot)) + sha256(token.slice(dot + 1))
      const cached = cache?.get(key, Date.now())
      if (cached) return cached
      const v = await scripts.hpSessionValidate(key, opts.idleTimeoutMs, opts.touchIntervalMs)
      if (!v) return null
      const session: ValidSession = {
        userId: v[0],
        email: v[11],
        role: v[1] as Role,
        publicId: v[2],
        ip: v[3],
        userAgent: v[4],
        device: parseDevice(v[5]),
        createdAt: v[6],
        lastSeenAt: v[7],
        idleExpiresAt: v[8],
        absoluteExpiresAt: v[9],
        touched: v[10] === 1
      }
      cache?.set(key, session, Date.now())
      return session
    },

    async revoke (userId, publicId, reason) {
      const tag = userTag(userId)
      const revoked = await scripts.hpSessionRevoke(indexKey(userId), sessionPrefix(tag), userId, channel, reason, publicId, '')
      cache?.invalidate(revoked) // this instance at once; the others through the channel
      return revoked.length > 0
    },

    async revokeAll (userId, reason, exceptPublicId = '') {
      const tag = userTag(userId)
      const revoked = await scripts.hpSessionRevoke(indexKey(userId), sessionPrefix(tag), userId, channel, reason, '', exceptPublicId)
      cache?.invalidate(revoked)
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
