// npm run migrate [-- --count N] / npm run migrate:down [-- --count N]
import { parseArgs } from 'node:util'
import { parseConfig, ConfigError } from '../src/config/config.js'
import { ensureDatabase } from '../src/infra/bootstrap.js'
import { migrate } from '../src/infra/migrate.js'

const { values } = parseArgs({ options: { down: { type: 'boolean' }, count: { type: 'string' } } })
try {
  const { config } = parseConfig()
  const direction = values.down ? 'down' : 'up'
  if (direction === 'up') await ensureDatabase(config.db.adminUrl)
  const count = values.count === undefined ? undefined : Number(values.count)
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) throw new Error('--count must be a positive integer')
  const ran = await migrate(config.db.adminUrl, { direction, ...(count ? { count } : {}) })
  console.log(ran.length ? `migrated ${direction}: ${ran.join(', ')}` : `nothing to migrate ${direction}`)
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`)
  process.exit(1)
}
