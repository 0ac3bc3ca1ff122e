// npm run migrate [-- --count N] / npm run migrate:down [-- --count N]
import { parseArgs } from 'node:util'
import { parseMigrateConfig, ConfigError } from '../src/config/config.js'
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'

const { values } = parseArgs({ options: { down: { type: 'boolean' }, count: { type: 'string' } } })
try {
  // only DATABASE_ADMIN_URL: the migration Job is given no JWT secret and none of the app's settings
  const { adminUrl } = parseMigrateConfig()
  const direction = values.down ? 'down' : 'up'
  if (direction === 'up') await ensureDatabase(adminUrl)
  const count = values.count === undefined ? undefined : Number(values.count)
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) throw new Error('--count must be a positive integer')
  const ran = await migrate(adminUrl, { direction, ...(count ? { count } : {}) })
  console.log(ran.length ? `migrated ${direction}: ${ran.join(', ')}` : `nothing to migrate ${direction}`)
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`)
  process.exit(1)
}
