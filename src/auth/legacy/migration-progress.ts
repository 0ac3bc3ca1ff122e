// How far the move from legacy JWTs to sessions has come, computed once for both readers
// (npm run legacy:report and GET /api/admin/migration): users who still hold a live legacy
// refresh family, how many of them the rollout the running servers apply already puts on
// sessions (they move at their next refresh), and the verdict on retiring the legacy path.
// Safe to retire means no live legacy refresh family: an access token without one ends within
// JWT_ACCESS_TTL anyway.
import type { Queryable } from '../../infra/db.js'
import type { RedisClient } from '../../infra/redis.js'
import { bucket } from '../rollout.js'
import { readPublishedRollouts, STALE_AFTER_MS, type PublishedRollout } from '../rollout-instances.js'

export interface MigrationProgress {
  servers: {
    /** servers that published their rollout within the last STALE_AFTER_MS */
    count: number
    /** the lowest effective percentage among them (the coverage every server gives), null with no server */
    effectivePercentage: number | null
    /** false when servers apply different percentages (a rollout in progress) */
    agree: boolean
    /** every server runs with LEGACY_AUTH_ENABLED=false */
    legacyRetired: boolean
    instances: PublishedRollout[]
  }
  usersWithLiveLegacyFamilies: number
  liveFamilies: number
  /** of those users, how many the sessions bucket covers at that percentage; null with no server */
  inSessionsBucket: number | null
  stillLegacy: number | null
  verdict: { safeToRetire: boolean; text: string }
}

export async function migrationProgress (sql: Queryable, redis: RedisClient, keyPrefix: string): Promise<MigrationProgress> {
  const [instances, rows] = await Promise.all([
    readPublishedRollouts(redis, keyPrefix),
    sql<{ userId: string; families: number }[]>`
      select user_id as "userId", count(distinct family_id)::int as families
      from refresh_tokens where revoked_at is null and expires_at > now()
      group by user_id`
  ])
  const percentages = instances.map(i => i.effectivePercentage)
  const percentage = instances.length ? Math.min(...percentages) : null
  const inBucket = percentage === null ? null : rows.filter(r => bucket(r.userId) < percentage).length
  const servers = {
    count: instances.length,
    effectivePercentage: percentage,
    agree: new Set(percentages).size <= 1,
    legacyRetired: instances.length > 0 && instances.every(i => !i.flags.legacyAuthEnabled),
    instances
  }
  const liveFamilies = rows.reduce((n, r) => n + r.families, 0)
  return {
    servers,
    usersWithLiveLegacyFamilies: rows.length,
    liveFamilies,
    inSessionsBucket: inBucket,
    stillLegacy: inBucket === null ? null : rows.length - inBucket,
    verdict: verdict(rows.length, liveFamilies, inBucket, servers)
  }
}

function verdict (users: number, families: number, inBucket: number | null, servers: MigrationProgress['servers']): MigrationProgress['verdict'] {
  if (users === 0) {
    return {
      safeToRetire: true,
      text: servers.legacyRetired
        ? 'retired: LEGACY_AUTH_ENABLED=false on every server and no live legacy refresh family remains'
        : 'safe to retire: no live legacy refresh family (set LEGACY_AUTH_ENABLED=false)'
    }
  }
  const held = `${users} user${users === 1 ? '' : 's'} still hold${users === 1 ? 's' : ''} ${families} live legacy refresh famil${families === 1 ? 'y' : 'ies'}`
  if (servers.legacyRetired) {
    return { safeToRetire: false, text: `retired, but ${held}: they must sign in again (LEGACY_AUTH_ENABLED=true would serve them again)` }
  }
  const coverage = inBucket === null || servers.effectivePercentage === null
    ? `no running server has published its rollout in the last ${STALE_AFTER_MS / 1000} s, so how many the sessions bucket covers is unknown`
    : `${inBucket} of them ${inBucket === 1 ? 'is' : 'are'} in the sessions bucket at ${servers.effectivePercentage} % and move${inBucket === 1 ? 's' : ''} to a session at the next refresh`
  return { safeToRetire: false, text: `not yet: ${held}; ${coverage}` }
}
