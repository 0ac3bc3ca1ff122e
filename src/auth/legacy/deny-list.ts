// Revoked legacy access tokens, by jti. Redis answers the hot path (one MGET); Postgres
// (jwt_deny_list) is the durable copy. If Redis loses its data (a restart without
// persistence, a FLUSHALL) the marker key is gone with it: the check then asks Postgres for
// that jti and the whole list is rebuilt, so no logged-out token becomes valid again.
//
// All deny keys share one hash tag, so the marker and a jti are read in one slot.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../../infra/redis.js'
import type { Sql } from '../../infra/db.js'

export interface DenyList {
  /** deny-lists a token until it would have expired anyway */
  deny: (jti: string, userId: string, expiresAt: number) => Promise<void>
  denyMany: (tokens: { jti: string; userId: string; expiresAt: number }[]) => Promise<void>
  isDenied: (jti: string) => Promise<boolean>
  /** copies every live entry from Postgres into Redis and sets the marker */
  rebuild: () => Promise<number>
}

export function createDenyList (redis: RedisClient, sql: Sql, keyPrefix: string, log: FastifyBaseLogger): DenyList {
  const r = redis as Redis
  const key = (jti: string): string => `${keyPrefix}{deny}:${jti}`
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
    async isDenied (jti) {
      const [loaded, denied] = await r.mget(marker, key(jti))
      if (denied) return true
      if (loaded) return false
      // Redis lost the list: answer from Postgres for this token, and reload in the background
      rebuild().catch(err => log.error({ err: (err as Error).message }, 'deny list rebuild failed'))
      const rows = await sql`select 1 from jwt_deny_list where jti = ${jti} and expires_at > now()`
      return rows.length > 0
    },
    rebuild
  }
}
