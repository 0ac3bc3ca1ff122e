// npm run rollout -- --status   the rollout flags from the environment and the override in Redis
// npm run rollout -- --clear    removes the rollback override (the environment's percentage applies again)
// Reads the same environment as the server (REDIS_URL, REDIS_KEY_PREFIX, NEW_AUTH_*, ROLLBACK_MODE).
import { parseConfig, ConfigError } from '../src/config/config.js'
import { createRedis, waitForReady } from '../src/infra/redis.js'
import { clearOverride, overrideKey, parseOverride } from '../src/auth/rollout-override.js'
import { effectivePercentage } from '../src/auth/rollout.js'

const mode = process.argv[2]
if (mode !== '--status' && mode !== '--clear') {
  console.error('usage: npm run rollout -- --status | --clear')
  process.exit(2)
}

let config
try {
  ({ config } = parseConfig())
} catch (err) {
  if (err instanceof ConfigError) {
    for (const line of err.problems) console.error(`  ${line}`)
    process.exit(1)
  }
  throw err
}

const redis = createRedis(config.redis)
try {
  if (!await waitForReady(redis, 5000)) {
    console.error(`rollout: Redis at ${config.redis.clusterNodes.length ? 'the cluster' : new URL(config.redis.url).host} is not reachable`)
    process.exitCode = 1
  } else if (mode === '--clear') {
    const removed = await clearOverride(redis, config.redis.keyPrefix)
    console.log(removed ? 'override cleared: every instance applies the configured percentage within 1 s' : 'no override was in force')
  } else {
    const override = parseOverride(await redis.get(overrideKey(config.redis.keyPrefix)))
    const r = config.rollout
    console.log(`NEW_AUTH_ENABLED=${r.newAuthEnabled} NEW_AUTH_PERCENTAGE=${r.newAuthPercentage} ROLLBACK_MODE=${r.rollbackMode} SECURITY_LOCKDOWN=${r.securityLockdown}`)
    console.log(override
      ? `override: new logins capped at ${override.maxPercentage} % since ${override.at} (${override.reason})`
      : 'override: none')
    console.log(`effective percentage: ${effectivePercentage(r, override?.maxPercentage ?? null)}`)
  }
} finally {
  redis.disconnect()
}
