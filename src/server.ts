// Entry point: read the config (exit 1 naming each bad variable), migrate when asked,
// build the app, listen, and close gracefully on SIGTERM/SIGINT within SHUTDOWN_TIMEOUT (10 s):
// new requests get 503 at once, in-flight ones finish (every Postgres query has a deadline of
// at most half the grace, so none can hold the close), sockets close with 1001, the audit
// queue is flushed (retried while Postgres is away), then the pools end and the process exits 0.
import { join, relative } from 'node:path'
import closeWithGrace from 'close-with-grace'
import { parseConfig, ConfigError, type Config } from './config/config.js'
import { withDevelopmentSecret } from './config/dev-secret.js'
import { developmentLogStream } from './core/logger.js'
import { buildApp } from './app.js'
import { ensureDatabase } from './infra/bootstrap.js'
import { migrate } from './infra/migrate.js'
import { startSummary } from './start-summary.js'

let config: Config
let warnings: string[]
// npm runs every script from the project's root, where services.sh keeps its .data/ too
const devSecret = withDevelopmentSecret(process.env, join(process.cwd(), '.data'))
try {
  ({ config, warnings } = parseConfig(devSecret.env))
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

const logStream = await developmentLogStream(config)
const app = await buildApp(config, logStream ? { logStream } : {})
for (const w of warnings) app.log.warn(w)
if (devSecret.usedFile) app.log.info(`JWT_ACCESS_SECRET unset: using the development secret kept in ${relative(process.cwd(), devSecret.usedFile)} (legacy tokens survive restarts; production requires the variable)`)

closeWithGrace({ delay: config.shutdownTimeoutMs, logger: app.log }, async ({ signal, err }) => {
  const started = Date.now()
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal, graceMs: config.shutdownTimeoutMs }, 'closing: refusing new requests, finishing in-flight ones')
  await app.close()
  app.log.info({ ms: Date.now() - started }, 'closed')
})

try {
  await app.listen({ port: config.port, host: config.host })
} catch (err) {
  const hint = listenHint(err as NodeJS.ErrnoException, config)
  if (hint) {
    // a person's mistake, not a bug: one line that says what to change, no stack
    console.error(`hallpass: ${hint}`)
    await app.close()
  } else {
    app.log.error({ err }, 'could not listen')
  }
  process.exit(1)
}
app.log.info(startSummary(config, app.rolloutOverride.current?.maxPercentage ?? null))

/** what to do when listen fails for a reason the person starting it can fix */
function listenHint (err: NodeJS.ErrnoException, config: Config): string | null {
  const at = `${config.host}:${config.port}`
  if (err.code === 'EADDRINUSE') return `could not listen on ${at}: the port is already in use (EADDRINUSE); set PORT to a free one, e.g. PORT=${config.port === 65535 ? 3001 : config.port + 1} npm start`
  if (err.code === 'EACCES') return `could not listen on ${at}: not allowed to use port ${config.port} (EACCES); set PORT to one above 1023`
  if (err.code === 'EADDRNOTAVAIL') return `could not listen on ${at}: this machine has no address ${config.host} (EADDRNOTAVAIL); set HOST, e.g. HOST=127.0.0.1 (0.0.0.0 in a container)`
  return null
}
