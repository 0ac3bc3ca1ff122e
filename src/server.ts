// Entry point: read the config (exit 1 naming each bad variable), migrate when asked,
// build the app, listen, and close gracefully on SIGTERM/SIGINT within 10 s.
import closeWithGrace from 'close-with-grace'
import { parseConfig, ConfigError, type Config } from './config/config.js'
import { buildApp } from './app.js'
import { ensureDatabase } from './infra/bootstrap.js'
import { migrate } from './infra/migrate.js'

let config: Config
let warnings: string[]
try {
  ({ config, warnings } = parseConfig())
} catch (err) {
  if (err instanceof ConfigError) {
    console.error('hallpass: invalid configuration')
    for (const line of err.problems) console.error(`  ${line}`)
    process.exit(1)
  }
  throw err
}

if (config.migrateOnStart) {
  try {
    await ensureDatabase(config.db.adminUrl)
    const ran = await migrate(config.db.adminUrl)
    if (ran.length) console.log(`hallpass: migrated ${ran.join(', ')}`)
  } catch (err) {
    console.error(`hallpass: migration failed: ${(err as Error).message}`)
    process.exit(1)
  }
}

const app = await buildApp(config)
for (const w of warnings) app.log.warn(w)

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing: finishing in-flight requests')
  await app.close()
})

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  app.log.error({ err }, 'could not listen')
  process.exit(1)
}
