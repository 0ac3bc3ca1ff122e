// Runs node-pg-migrate programmatically as the schema owner (DATABASE_ADMIN_URL). The
// migrations folder sits next to src/ both in the source tree and in dist/.
import { fileURLToPath } from 'node:url'
import { runner } from 'node-pg-migrate'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url))

export interface MigrateOptions {
  direction?: 'up' | 'down'
  /** how many migrations; default all for up, one for down */
  count?: number
  log?: (msg: string) => void
  /** refuse to run a migration that sorts before one already applied (default true) */
  checkOrder?: boolean
}

export async function migrate (adminUrl: string, opts: MigrateOptions = {}): Promise<string[]> {
  const direction = opts.direction ?? 'up'
  const ran = await runner({
    databaseUrl: adminUrl,
    dir: MIGRATIONS_DIR,
    // compiled output may carry .d.ts or .map files beside the migrations; README.md is prose
    ignorePattern: '(\\..*)|(.*\\.(d\\.ts|map|md))',
    migrationsTable: 'pgmigrations',
    direction,
    count: opts.count ?? (direction === 'up' ? Infinity : 1),
    checkOrder: opts.checkOrder ?? true,
    singleTransaction: true,
    log: opts.log ?? (() => {})
  })
  return ran.map(m => m.name)
}
