// The bench's own database and Redis prefix, created and migrated by the bench, and emptied
// at the start of every run so one run's sessions and rows never leak into the next.
import postgres from 'postgres'
import type { Redis } from 'ioredis'
import { ensureDatabase } from '../../src/infra/bootstrap.js'
import { migrate } from '../../src/infra/migrate.js'

export async function prepareDatabase (adminUrl: string): Promise<void> {
  await ensureDatabase(adminUrl)
  await migrate(adminUrl)
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} })
  try {
    const tables = await sql<{ name: string }[]>`
      select quote_ident(schemaname) || '.' || quote_ident(tablename) as name
      from pg_tables
      where schemaname not in ('pg_catalog', 'information_schema') and tablename <> 'pgmigrations'`
    if (tables.length) await sql.unsafe(`truncate ${tables.map(t => t.name).join(', ')} cascade`)
  } finally {
    await sql.end({ timeout: 5 })
  }
}

/** removes every key under the prefix; returns how many */
export async function cleanRedis (redis: Redis, prefix: string): Promise<number> {
  let cursor = '0'
  let removed = 0
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length) removed += await redis.unlink(...keys)
  } while (cursor !== '0')
  return removed
}
