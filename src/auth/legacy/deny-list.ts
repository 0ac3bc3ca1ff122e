// Revoked legacy access tokens, by jti. Redis answers the hot path (one MGET); Postgres
// (jwt_deny_list) is the durable copy. If Redis loses its data (a restart without
// persistence, a FLUSHALL) the marker key is gone with it: the check then asks Postgres for
// that jti and the whole list is rebuilt, so no logged-out token becomes valid again.
//
// Credential versions: a user-wide revocation raises `{deny}:cv:<userId>` (after Postgres has
// committed the bump), and an access token whose `cv` claim is older is refused. The key only
// needs to outlive the access tokens minted before the bump, so it expires after one access
// token lifetime; the rebuild reloads the versions bumped within that window.
//
// All deny keys share one hash tag, so the marker, a jti and a version are read in one slot:
// the hot path stays one MGET. It goes through `reader`, an auto-pipelined connection
// (infra/redis.ts): the MGETs of one event-loop turn leave in one socket write, where a write
// per request was the largest single cost of a Bearer request. Writes stay on `redis`; a read
// that starts after a write was acknowledged sees it, whichever connection carries it.
//
// A write Redis refuses (full with noeviction, a read-only replica after a failover, down) must
// never look like success: every reply of a pipeline is checked, and a failed write deletes the
// marker (DEL is allowed even when Redis is full) and makes this instance answer from Postgres
// until a rebuild succeeds. The caller gets a 503 REVOCATION_UNCONFIRMED error: Postgres holds the entry,
// so the token is refused, but Redis could not confirm it.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../../infra/redis.js'
import type { Sql } from '../../infra/db.js'
import { Errors } from '../../core/errors.js'
import { isRedisFailure } from '../../core/dependency-errors.js'

export interface DenyList {
  /** deny-lists a token until it would have expired anyway */
  deny: (jti: string, userId: string, expiresAt: number) => Promise<void>
  denyMany: (tokens: { jti: string; userId: string; expiresAt: number }[]) => Promise<void>
  /** true when the token is deny-listed or was minted under an older credential version */
  isRefused: (token: { jti: string; userId: string; credentialVersion: number }) => Promise<boolean>
  /** records a committed credential version bump (never lowers the stored one) */
  raiseVersion: (userId: string, credentialVersion: number) => Promise<void>
  /** copies every live entry from Postgres into Redis and sets the marker */
  rebuild: () => Promise<number>
  /**
   * Redis missed a revocation (of this list or of the sessions): drop the marker so every
   * instance asks Postgres, and answer from Postgres here until a rebuild succeeds
   */
  distrustRedis: (cause: unknown) => Promise<void>
}

/** the error of a revocation that Postgres holds but Redis could not confirm (503 REVOCATION_UNCONFIRMED) */
export function revocationUnconfirmed (cause: unknown): Error {
  if ((cause as { code?: unknown }).code === 'REVOCATION_UNCONFIRMED') return cause as Error
  const err = new Errors.REVOCATION_UNCONFIRMED()
  Object.assign(err, { cause, dependency: 'redis' })
  return err
}

// after a failed rebuild, the next one waits this long (a full Redis refuses every attempt)
const REBUILD_RETRY_MS = 1000

// raise, never lower: two bumps may reach Redis out of order
const RAISE_VERSION = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`

export function createDenyList (redis: RedisClient, sql: Sql, keyPrefix: string, log: FastifyBaseLogger, accessTtlMs: number, reader: RedisClient = redis): DenyList {
  const r = redis as Redis
  if (!('hpRaiseVersion' in r)) r.defineCommand('hpRaiseVersion', { numberOfKeys: 1, lua: RAISE_VERSION })
  const raise = (userId: string, version: number, ttlMs: number): Promise<unknown> =>
    (r as unknown as { hpRaiseVersion: (...a: (string | number)[]) => Promise<unknown> }).hpRaiseVersion(versionKey(userId), version, Math.max(1, Math.ceil(ttlMs)))
  const key = (jti: string): string => `${keyPrefix}{deny}:${jti}`
  const versionKey = (userId: string): string => `${keyPrefix}{deny}:cv:${userId}`
  // a token minted just before the bump lives at most one access lifetime; a margin for clock skew
  const versionTtlMs = accessTtlMs + 60_000
  const marker = `${keyPrefix}{deny}:loaded`
  let rebuilding: Promise<number> | null = null
  // set while a write was refused and no rebuild has succeeded since: answer from Postgres
  let distrusted = false
  // bumped by every refused write, so a rebuild that started before it cannot clear it
  let refusals = 0
  let nextRebuildAt = 0

  const writeRedis = async (tokens: { jti: string; expiresAt: number }[]): Promise<void> => {
    const now = Date.now()
    const live = tokens.filter(t => t.expiresAt > now)
    if (live.length === 0) return
    const pipeline = r.pipeline()
    for (const t of live) pipeline.set(key(t.jti), '1', 'PX', t.expiresAt - now)
    // exec resolves even when every SET was refused: the errors sit in the replies
    const replies = await pipeline.exec()
    const refused = replies?.find(([err]) => err)?.[0]
    if (refused) throw refused
  }

  const distrustRedis = async (cause: unknown): Promise<void> => {
    refusals++
    if (!distrusted) log.warn({ err: (cause as Error).message }, 'deny list: Redis missed a revocation; checks ask Postgres until a rebuild succeeds')
    distrusted = true
    // best effort: with Redis down this fails too, and the rebuild on reconnect repairs it
    await r.del(marker).catch(() => {})
  }

  const rebuild = (): Promise<number> => {
    rebuilding ??= (async () => {
      const refusalsAtStart = refusals
      try {
        const rows = await sql<{ jti: string; expiresAt: Date }[]>`
          select jti, expires_at as "expiresAt" from jwt_deny_list where expires_at > now()`
        await writeRedis(rows.map(row => ({ jti: row.jti, expiresAt: row.expiresAt.getTime() })))
        const bumped = await sql<{ id: string; version: number; ageMs: number }[]>`
          select id, credential_version::int as version,
                 (extract(epoch from now() - credential_changed_at) * 1000)::float8 as "ageMs"
          from users where credential_changed_at > now() - make_interval(secs => ${versionTtlMs / 1000})`
        await Promise.all(bumped.map(u => raise(u.id, u.version, versionTtlMs - u.ageMs)))
        // a write refused while this ran may have missed these rows: leave the marker unset
        if (refusals !== refusalsAtStart) throw new Error('a revocation was refused during the rebuild')
        await r.set(marker, String(Date.now()))
        distrusted = false
        log.info({ entries: rows.length }, 'deny list loaded into redis')
        return rows.length
      } catch (err) {
        nextRebuildAt = Date.now() + REBUILD_RETRY_MS
        throw err
      } finally {
        rebuilding = null
      }
    })()
    return rebuilding
  }

  const denyMany: DenyList['denyMany'] = async tokens => {
    const live = tokens.filter(t => t.expiresAt > Date.now())
    if (live.length === 0) return
    // Postgres first: once it holds the entry, even a Redis that forgets cannot resurrect the token
    await sql`
      insert into jwt_deny_list ${sql(live.map(t => ({ jti: t.jti, user_id: t.userId, expires_at: new Date(t.expiresAt) })))}
      on conflict (jti) do nothing`
    try {
      await writeRedis(live)
    } catch (err) {
      if (!isRedisFailure(err)) throw err
      await distrustRedis(err)
      throw revocationUnconfirmed(err)
    }
  }

  return {
    deny: (jti, userId, expiresAt) => denyMany([{ jti, userId, expiresAt }]),
    denyMany,
    async raiseVersion (userId, version) {
      try {
        await raise(userId, version, versionTtlMs)
      } catch (err) {
        if (!isRedisFailure(err)) throw err
        await distrustRedis(err)
        throw revocationUnconfirmed(err)
      }
    },
    async isRefused ({ jti, userId, credentialVersion }) {
      const [loaded, denied, version] = await reader.mget(marker, key(jti), versionKey(userId))
      if (denied) return true
      if (loaded && !distrusted) return Number(version ?? 0) > credentialVersion
      // Redis lost the list or missed a write: answer from Postgres for this token, and reload
      // in the background (not more often than REBUILD_RETRY_MS after a failure)
      if (Date.now() >= nextRebuildAt) rebuild().catch(err => log.warn({ err: (err as Error).message }, 'deny list rebuild failed'))
      const rows = await sql`
        select 1 from jwt_deny_list where jti = ${jti} and expires_at > now()
        union all
        select 1 from users where id = ${userId} and credential_version > ${credentialVersion}`
      return rows.length > 0
    },
    rebuild,
    distrustRedis
  }
}
