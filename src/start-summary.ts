// The one line a newcomer reads after `npm start`: where the server is, what the rollout gives
// a login right now, which browser origins may post, and which Redis and Postgres it talks to.
// Passwords in the service URLs never reach it.
import type { Config } from './config/config.js'
import { effectivePercentage } from './auth/rollout.js'

/** host:port/path of a service URL, without user or password */
function whereIs (url: string): string {
  try {
    const u = new URL(url)
    return `${u.host}${u.pathname === '/' ? '' : u.pathname}`
  } catch {
    return '(unparsable URL)'
  }
}

/** `http://HOST:PORT`, with the wildcard addresses shown as the loopback a browser can open */
function listenUrl (config: Config): string {
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '[::1]' : config.host.includes(':') ? `[${config.host}]` : config.host
  return `http://${host}:${config.port}`
}

export function startSummary (config: Config, overrideCap: number | null): string {
  const r = config.rollout
  const percent = effectivePercentage(r, overrideCap)
  const redis = config.redis.clusterNodes.length
    ? `Redis Cluster ${config.redis.clusterNodes.map(n => `${n.host}:${n.port}`).join(',')}`
    : `Redis ${whereIs(config.redis.url)}`
  return [
    `hallpass ${listenUrl(config)} (${config.nodeEnv})`,
    `sessions for ${percent} % of logins (NEW_AUTH_ENABLED=${r.newAuthEnabled}, NEW_AUTH_PERCENTAGE=${r.newAuthPercentage}, ROLLBACK_MODE=${r.rollbackMode}` +
      `${overrideCap === null ? '' : `, rollback override caps at ${overrideCap} %`}${r.securityLockdown ? ', SECURITY_LOCKDOWN=true' : ''}), ${r.legacyAuthEnabled ? 'legacy JWTs for the rest' : 'legacy JWTs retired (LEGACY_AUTH_ENABLED=false)'}`,
    `ALLOWED_ORIGINS ${config.allowedOrigins.length ? config.allowedOrigins.join(',') : '(none: every cookie POST is refused)'}`,
    `${redis} (prefix ${config.redis.keyPrefix})`,
    `Postgres ${whereIs(config.db.url)}`
  ].join(' · ')
}
