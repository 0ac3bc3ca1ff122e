// npm run legacy:report — how far the migration to sessions has come: users who still hold a
// live legacy refresh family, how many of them the rollout the RUNNING servers apply already
// puts on sessions (they move over at their next refresh), and a verdict on retiring the legacy
// path. The rollout is read from Redis, where every server publishes its flags and any
// override, never from this shell's environment; DATABASE_URL, REDIS_URL and REDIS_KEY_PREFIX
// say where to look. Add --json for machine-readable output. A dependency that does not answer
// is one line on stderr and exit 1.
import postgres from 'postgres'
import { parseConfig, ConfigError } from '../src/config/config.js'
import { createRedis, waitForReady } from '../src/infra/redis.js'
import { migrationProgress, type MigrationProgress } from '../src/auth/legacy/migration-progress.js'

function print (report: MigrationProgress): void {
  const s = report.servers
  if (s.count === 0) {
    console.log('rollout in force: unknown (no running server has published its rollout to Redis under this REDIS_KEY_PREFIX)')
  } else {
    const retired = s.legacyRetired ? '; legacy tokens retired (LEGACY_AUTH_ENABLED=false)' : ''
    console.log(`rollout in force: ${s.effectivePercentage}% of users get sessions (${s.count} server${s.count === 1 ? '' : 's'}${s.agree ? '' : ', which disagree: the lowest is shown'})${retired}`)
    if (!s.agree) for (const i of s.instances) console.log(`  ${i.instance}: ${i.effectivePercentage}%`)
  }
  console.log(`users with a live legacy refresh family: ${report.usersWithLiveLegacyFamilies} (${report.liveFamilies} families)`)
  if (report.inSessionsBucket !== null) {
    console.log(`  of them in the sessions bucket (move at their next refresh): ${report.inSessionsBucket}`)
    console.log(`  of them staying on legacy at this percentage: ${report.stillLegacy}`)
  }
  console.log(`verdict: ${report.verdict.text}`)
}

let config
try {
  ({ config } = parseConfig())
} catch (err) {
  if (!(err instanceof ConfigError)) throw err
  console.error('legacy:report: invalid configuration')
  for (const line of err.problems) console.error(`  ${line}`)
  process.exit(1)
}

const redis = createRedis(config.redis, { retryStrategy: () => null })
redis.on('error', () => { /* reported below, once */ })
const sql = postgres(config.db.url, { max: 1, onnotice: () => {}, connect_timeout: 5 })
const pgHost = new URL(config.db.url).host
const redisHost = config.redis.clusterNodes.length ? 'the Redis cluster' : new URL(config.redis.url).host
try {
  if (!await waitForReady(redis, 5000)) {
    console.error(`legacy:report: Redis at ${redisHost} is not reachable`)
    process.exitCode = 1
  } else {
    const report = await migrationProgress(sql, redis, config.redis.keyPrefix)
    if (process.argv.includes('--json')) console.log(JSON.stringify(report))
    else print(report)
  }
} catch (err) {
  // one line a person can act on (what was said, and where we looked), never a stack
  const e = err as { code?: string; message?: string }
  console.error(`legacy:report: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''} [database ${pgHost}, Redis ${redisHost}]`)
  process.exitCode = 1
} finally {
  redis.disconnect()
  await sql.end({ timeout: 1 }).catch(() => {})
}
