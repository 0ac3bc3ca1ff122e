// The durable record of sessions in Postgres (user_sessions): written before Redis at login,
// revoked and committed before Redis is touched, read when Redis is unreachable and to
// repopulate an empty Redis. Redis is the fast path; this is the truth.
//
// A row is live while it is not revoked, before its absolute and idle expiry, created under the
// user's current credential version, and its user is not disabled. The idle expiry here moves
// with the last-seen batches (mirror.ts), so it is never later than Redis' own: when the two
// disagree, Postgres refuses first.
import type { Queryable, Sql } from '../../infra/db.js'
import type { Role } from '../context.js'
import type { Device, ValidSession } from './types.js'
import { normalizeIp } from '../../core/request-context.js'

export interface NewRecord {
  publicId: string
  userId: string
  keyHash: string
  credentialVersion: number
  idleTimeoutMs: number
  absoluteTimeoutMs: number
  /** epoch ms, 0 = none */
  absoluteCapAt: number
  device: Device
  ip: string
  userAgent: string
}

/** a live session as Postgres holds it: what Redis holds under its key, plus where it is keyed */
export type LiveRecord = Omit<ValidSession, 'touched'> & { keyHash: string; credentialVersion: number }

export interface RevokedRecord { publicId: string; userId: string; keyHash: string }

/** which of a user's sessions a revocation ends */
export type RevokeTarget = { only: string } | { except: string | null }

export interface RevokeResult {
  /** public ids this call revoked */
  revoked: string[]
  /** the `only` session exists but was revoked before (a retried revocation) */
  alreadyRevoked: boolean
}

interface Row {
  public_id: string
  user_id: string
  key_hash: string
  email: string
  role: Role
  ip: string | null
  user_agent: string | null
  device: Device
  created_at: Date
  last_seen_at: Date
  idle_expires_at: Date
  expires_at: Date
  credential_version: string
}

const toLive = (r: Row): LiveRecord => ({
  publicId: r.public_id,
  userId: r.user_id,
  keyHash: r.key_hash,
  email: r.email,
  role: r.role,
  ip: r.ip ?? '',
  userAgent: r.user_agent ?? '',
  device: r.device,
  createdAt: r.created_at.getTime(),
  lastSeenAt: r.last_seen_at.getTime(),
  idleExpiresAt: r.idle_expires_at.getTime(),
  absoluteExpiresAt: r.expires_at.getTime(),
  credentialVersion: Number(r.credential_version)
})

export interface SessionRecords {
  insert: (r: NewRecord) => Promise<void>
  /** a login whose Redis write failed or was refused: the row must never validate */
  abandon: (publicId: string) => Promise<void>
  revoke: (tx: Queryable, userId: string, target: RevokeTarget, reason: string) => Promise<RevokeResult>
  /** a user-wide revocation kept `publicId`: it lives on under the new credential version */
  moveToVersion: (tx: Queryable, publicId: string, credentialVersion: number) => Promise<void>
  /** the live session under this key hash, or null */
  findLive: (keyHash: string) => Promise<LiveRecord | null>
  /** live sessions in pages (keyset on public id), for the repair pass after Redis lost its data */
  livePage: (after: string, limit: number) => Promise<LiveRecord[]>
  /** sessions revoked since `since` (epoch ms), which Redis must not hold */
  revokedSince: (since: number) => Promise<RevokedRecord[]>
}

export function createSessionRecords (sql: Sql): SessionRecords {
  const liveWhere = sql`s.key_hash is not null and s.revoked_at is null and s.expires_at > now() and s.idle_expires_at > now()
    and s.credential_version >= u.credential_version and u.disabled_at is null`
  const liveColumns = sql`s.public_id, s.user_id, s.key_hash, u.email, u.role, host(s.ip) as ip, s.user_agent, s.device,
    s.created_at, s.last_seen_at, s.idle_expires_at, s.expires_at, s.credential_version`

  return {
    async insert (r) {
      const cap = r.absoluteCapAt > 0 ? new Date(r.absoluteCapAt) : null
      await sql`
        with t as (select now() as now, least(now() + ${r.absoluteTimeoutMs} * interval '1 millisecond', coalesce(${cap}::timestamptz, 'infinity')) as abs)
        insert into user_sessions (public_id, user_id, key_hash, credential_version, created_at, last_seen_at, expires_at, idle_expires_at, device, ip, user_agent)
        select ${r.publicId}, ${r.userId}, ${r.keyHash}, ${r.credentialVersion}, t.now, t.now, t.abs,
               least(t.now + ${r.idleTimeoutMs} * interval '1 millisecond', t.abs), ${sql.json({ ...r.device })}, ${normalizeIp(r.ip)}, ${r.userAgent.slice(0, 512)}
        from t`
    },

    async abandon (publicId) {
      await sql`update user_sessions set revoked_at = now(), revoked_reason = 'not_issued' where public_id = ${publicId} and revoked_at is null`
    },

    async revoke (tx, userId, target, reason) {
      if ('only' in target) {
        const rows = await tx<{ public_id: string; was_revoked: boolean }[]>`
          with target as (
            select public_id, revoked_at is not null as was_revoked from user_sessions
            where public_id = ${target.only} and user_id = ${userId} for update
          ), ended as (
            update user_sessions s set revoked_at = now(), revoked_reason = ${reason}
            from target where s.public_id = target.public_id and not target.was_revoked
          )
          select public_id, was_revoked from target`
        const row = rows[0]
        return { revoked: row && !row.was_revoked ? [row.public_id] : [], alreadyRevoked: row?.was_revoked ?? false }
      }
      const rows = await tx<{ public_id: string }[]>`
        update user_sessions set revoked_at = now(), revoked_reason = ${reason}
        where user_id = ${userId} and revoked_at is null and public_id is distinct from ${target.except}
        returning public_id`
      return { revoked: rows.map(r => r.public_id), alreadyRevoked: false }
    },

    async moveToVersion (tx, publicId, credentialVersion) {
      await tx`update user_sessions set credential_version = ${credentialVersion} where public_id = ${publicId} and key_hash is not null`
    },

    async findLive (keyHash) {
      const rows = await sql<Row[]>`
        select ${liveColumns} from user_sessions s join users u on u.id = s.user_id
        where s.key_hash = ${keyHash} and ${liveWhere}`
      return rows[0] ? toLive(rows[0]) : null
    },

    async livePage (after, limit) {
      const rows = await sql<Row[]>`
        select ${liveColumns} from user_sessions s join users u on u.id = s.user_id
        where s.public_id > ${after} and ${liveWhere}
        order by s.public_id limit ${limit}`
      return rows.map(toLive)
    },

    async revokedSince (since) {
      const rows = await sql<{ public_id: string; user_id: string; key_hash: string }[]>`
        select public_id, user_id, key_hash from user_sessions
        where revoked_at >= ${new Date(since)} and key_hash is not null`
      return rows.map(r => ({ publicId: r.public_id, userId: r.user_id, keyHash: r.key_hash }))
    }
  }
}
