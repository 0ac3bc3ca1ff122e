import t from 'tap'
import { spawnSync } from 'node:child_process'
import { parseConfig, ConfigError } from '../src/config/config.js'
import { parseDuration } from '../src/config/duration.js'

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    parseConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

t.test('defaults work locally', async t => {
  const { config, warnings } = parseConfig({})
  t.equal(config.port, 3000)
  t.equal(config.redis.url, 'redis://127.0.0.1:6379')
  t.equal(config.session.idleTimeoutMs, 24 * 3600_000)
  t.equal(config.session.absoluteTimeoutMs, 30 * 86_400_000)
  t.equal(config.session.touchIntervalMs, 60_000)
  t.equal(config.session.maxPerUser, 5)
  t.equal(config.jwt.accessTtlMs, 15 * 60_000)
  t.equal(config.refresh.reuseGraceMs, 10_000)
  t.same(config.rollout, { newAuthEnabled: true, newAuthPercentage: 100, rollbackMode: false, securityLockdown: false, legacyAuthEnabled: true })
  t.equal(config.migrateOnStart, true, 'migrates on start outside production')
  t.equal(config.session.cookieSecure, false)
  t.equal(config.session.cookieName, 'sid')
  t.ok(config.jwt.accessSecret.length >= 32, 'a development secret is generated')
  t.match(warnings.join('\n'), /JWT_ACCESS_SECRET/, 'and a warning says so')
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.session), 'frozen')
  t.same(config.allowedOrigins, ['http://localhost:3000', 'http://127.0.0.1:3000'])
})

t.test('ALLOWED_ORIGINS: by default this server\'s own origins, following PORT and HOST', async t => {
  t.same(parseConfig({ PORT: '4141' }).config.allowedOrigins, ['http://localhost:4141', 'http://127.0.0.1:4141'])
  t.same(parseConfig({ PORT: '8080', HOST: '0.0.0.0' }).config.allowedOrigins, ['http://localhost:8080', 'http://127.0.0.1:8080'], 'a wildcard address is no origin')
  t.same(parseConfig({ PORT: '8080', HOST: 'devbox.lan' }).config.allowedOrigins, ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://devbox.lan:8080'])
  t.same(parseConfig({ PORT: '8080', HOST: '::1' }).config.allowedOrigins, ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080'])
  t.same(parseConfig({ PORT: '4141', ALLOWED_ORIGINS: 'https://app.example.com' }).config.allowedOrigins, ['https://app.example.com'], 'a set value replaces them')
})

t.test('durations accept bare seconds and units', async t => {
  t.equal(parseDuration('900'), 900_000)
  t.equal(parseDuration('15m'), 900_000)
  t.equal(parseDuration('30d'), 30 * 86_400_000)
  t.equal(parseDuration('250ms'), 250)
  t.equal(parseDuration('1.5h'), null)
  t.equal(parseDuration('-5s'), null)
  t.equal(parseDuration('15 minutes'), null)
})

t.test('each bad variable is named with what is wrong and the expected form', async t => {
  const problems = problemsOf({
    PORT: 'eighty',
    SESSION_IDLE_TIMEOUT: '15 minutes',
    NEW_AUTH_PERCENTAGE: '150',
    ROLLBACK_MODE: 'maybe',
    REDIS_URL: 'http://localhost',
    ALLOWED_ORIGINS: 'https://ok.example, not an origin'
  })
  t.equal(problems.length, 6, problems.join('\n'))
  t.match(problems.find(p => p.startsWith('PORT:')), /"eighty" is not valid; expected a TCP port/)
  t.match(problems.find(p => p.startsWith('SESSION_IDLE_TIMEOUT:')), /expected a duration such as 900, 15m/)
  t.match(problems.find(p => p.startsWith('NEW_AUTH_PERCENTAGE:')), /150 is out of range; expected an integer from 0 to 100/)
  t.match(problems.find(p => p.startsWith('ROLLBACK_MODE:')), /expected true or false/)
  t.match(problems.find(p => p.startsWith('REDIS_URL:')), /expected redis:\/\//)
  t.match(problems.find(p => p.startsWith('ALLOWED_ORIGINS:')), /comma-separated origins/)
})

t.test('an absolute timeout shorter than the idle one is refused', async t => {
  const problems = problemsOf({ SESSION_IDLE_TIMEOUT: '2h', SESSION_ABSOLUTE_TIMEOUT: '1h' })
  t.match(problems.join('\n'), /SESSION_ABSOLUTE_TIMEOUT: .*shorter than SESSION_IDLE_TIMEOUT/)
})

t.test('production: a missing or short secret is fatal and never echoed', async t => {
  t.match(problemsOf({ NODE_ENV: 'production' }).join('\n'), /JWT_ACCESS_SECRET: missing; expected at least 32 bytes/)
  const short = problemsOf({ NODE_ENV: 'production', JWT_ACCESS_SECRET: 'hunter2-but-short' })
  t.match(short.join('\n'), /JWT_ACCESS_SECRET: too short/)
  t.notMatch(short.join('\n'), /hunter2/, 'the value is not printed')
  const db = problemsOf({ DATABASE_URL: 'mysql://root:s3cret@db/x' })
  t.match(db.join('\n'), /DATABASE_URL: \(value hidden\)/)
  t.notMatch(db.join('\n'), /s3cret/)
})

t.test('production: Secure cookie with the __Host- prefix, no migrations at start', async t => {
  const { config } = parseConfig({ NODE_ENV: 'production', JWT_ACCESS_SECRET: 'x'.repeat(32) })
  t.equal(config.session.cookieSecure, true)
  t.equal(config.session.cookieName, '__Host-sid')
  t.equal(config.migrateOnStart, false)
})

t.test('the server exits 1 before listening, one line per bad variable', async t => {
  const res = spawnSync(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: { ...process.env, PORT: '70000', LOG_LEVEL: 'loud', NODE_ENV: 'production', JWT_ACCESS_SECRET: '' },
    encoding: 'utf8',
    timeout: 30_000
  })
  t.equal(res.status, 1)
  const lines = res.stderr.split('\n').filter(l => /^\s+[A-Z_]+:/.test(l))
  t.equal(lines.length, 3, res.stderr)
  t.match(res.stderr, /PORT: 70000 is out of range/)
  t.match(res.stderr, /LOG_LEVEL: "loud" is not valid/)
  t.match(res.stderr, /JWT_ACCESS_SECRET: missing/)
  t.notMatch(res.stdout, /listening/i)
})

t.test('TRUST_PROXY: a hop count or the proxies\' addresses; true is refused in production', async t => {
  const secret = 'x'.repeat(40)
  t.equal(parseConfig({}).config.trustProxy, false)
  t.equal(parseConfig({ TRUST_PROXY: '1' }).config.trustProxy, 1, 'a bare number is a hop count')
  t.equal(parseConfig({ TRUST_PROXY: '0' }).config.trustProxy, false)
  t.same(parseConfig({ TRUST_PROXY: '10.0.0.0/8,192.0.2.1,2001:db8::/32' }).config.trustProxy, ['10.0.0.0/8', '192.0.2.1', '2001:db8::/32'])
  t.equal(parseConfig({ TRUST_PROXY: 'true' }).config.trustProxy, true, 'allowed outside production')
  const refused = problemsOf({ NODE_ENV: 'production', JWT_ACCESS_SECRET: secret, TRUST_PROXY: 'true' })
  t.equal(refused.length, 1)
  t.match(refused[0], /^TRUST_PROXY: true trusts every hop.*number of proxies in front \(such as 1\).*CIDRs/)
  t.equal(problemsOf({ NODE_ENV: 'production', JWT_ACCESS_SECRET: secret, TRUST_PROXY: '1' }).length, 0)
  t.match(problemsOf({ TRUST_PROXY: '10.0.0.0/33' })[0], /TRUST_PROXY: 10\.0\.0\.0\/33 is not an IP address or CIDR/)
  t.match(problemsOf({ TRUST_PROXY: '999.1.1.1' })[0], /TRUST_PROXY: 999\.1\.1\.1 is not/)
  t.match(problemsOf({ TRUST_PROXY: 'maybe' })[0], /^TRUST_PROXY:/)
})
