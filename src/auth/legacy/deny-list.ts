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
// the hot path stays one MGET.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../../infra/redis.js'
import type { Sql } from '../../infra/db.js'

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
}

// raise, never lower: two bumps may reach Redis out of order
const RAISE_VERSION = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`

export function createDenyList (redis: RedisClient, sql: Sql, keyPrefix: string, log: FastifyBaseLogger, accessTtlMs: number): DenyList {
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

  const writeRedis = async (tokens: { jti: string; expiresAt: number }[]): Promise<void> => {
    const now = Date.now()
    const live = tokens.filter(t => t.expiresAt > now)
    if (live.length === 0) return
    const pipeline = r.pipeline()
    for (const t of live) pipeline.set(key(t.jti), '1', 'PX', t.expiresAt - now)
    await pipeline.exec()
  }

  const rebuild = (): Promise<number> => {
    rebuilding ??= (async () => {
      try {
        const rows = await sql<{ jti: string; expiresAt: Date }[]>`
          select jti, expires_at as "expiresAt" from jwt_deny_list where expires_at > now()`
        await writeRedis(rows.map(row => ({ jti: row.jti, expiresAt: row.expiresAt.getTime() })))
        const bumped = await sql<{ id: string; version: number; ageMs: number }[]>`
          select id, credential_version::int as version,
                 (extract(epoch from now() - credential_changed_at) * 1000)::float8 as "ageMs"
          from users where credential_changed_at > now() - make_interval(secs => ${versionTtlMs / 1000})`
        await Promise.all(bumped.map(u => raise(u.id, u.version, versionTtlMs - u.ageMs)))
        await r.set(marker, String(Date.now()))
        log.info({ entries: rows.length }, 'deny list loaded into redis')
        return rows.length
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
    await writeRedis(live)
  }

  return {
    deny: (jti, userId, expiresAt) => denyMany([{ jti, userId, expiresAt }]),
    denyMany,
    async raiseVersion (userId, version) {
      await raise(userId, version, versionTtlMs)
    },
    async isRefused ({ jti, userId, credentialVersion }) {
      const [loaded, denied, version] = await r.mget(marker, key(jti), versionKey(userId))
      if (denied) return true
      if (loaded) return Number(version ?? 0) > credentialVersion
      // Redis lost the list: answer from Postgres for this token, and reload in the background
      rebuild().catch(err => log.error({ err: (err as Error).message }, 'deny list rebuild failed'))
      const rows = await sql`
        select 1 from jwt_deny_list where jti = ${jti} and expires_at > now()
        union all
        select 1 from users where id = ${userId} and credential_version > ${credentialVersion}`
      return rows.length > 0
    },
    rebuild
  }
}
