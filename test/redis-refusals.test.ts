// A full or failing Redis never looks like success (issue 18, item 3). Each test runs its own
// redis-server (test/fault-processes.ts) and fills it, turns it into a replica, or stalls it for
// real: an admin's disable and a logout that Redis cannot confirm answer 503
// REVOCATION_UNCONFIRMED and the access token is refused at once (the deny list falls back to
// Postgres, which holds the revocation); logins answer 503 DEPENDENCY_UNAVAILABLE, never 500;
// every class of Redis refusal maps to 503 and a bug in a script stays a 500.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { adminSql, build, delay, uniqueEmail, waitFor } from './helper.js'
import { startRedis, type RedisProcess } from './fault-processes.js'
import { PASSWORD, register } from './auth-helper.js'
import { bearer, legacyLogin } from './legacy-helper.js'

// every user on legacy tokens: the Bearer path is the one the deny list guards
const LEGACY = { NEW_AUTH_PERCENTAGE: '0', RATE_LIMIT_LOGIN: '100000/1m' }

async function legacyUser (t: Test, app: FastifyInstance, role: 'user' | 'admin' = 'user') {
  const email = uniqueEmail(role)
  const { userId } = await register(app, email)
  if (role === 'admin') await adminSql(t)`update users set role = 'admin' where id = ${userId}`
  const { accessToken } = await legacyLogin(app, email)
  return { userId, email, headers: bearer(accessToken) }
}

const me = (app: FastifyInstance, headers: Record<string, string>) => app.inject({ method: 'GET', url: '/api/auth/me', headers })

const markerKey = (app: FastifyInstance): string => `${app.config.redis.keyPrefix}{deny}:loaded`

/**
 * Lowers maxmemory to just above what the server holds and writes until it refuses: a full
 * Redis. Then the limit goes below the memory in use, so a few bytes freed by a client buffer
 * cannot let one small write through and make the test depend on the allocator.
 */
async function fill (t: Test, redis: RedisProcess): Promise<void> {
  const used = Number(/used_memory:(\d+)/.exec(redis.cli('info', 'memory'))?.[1])
  t.equal(redis.cli('config', 'set', 'maxmemory', String(used + 512 * 1024)), 'OK')
  const filler = new Redis(redis.url, { maxRetriesPerRequest: 0 })
  t.teardown(() => filler.disconnect())
  const blob = 'x'.repeat(64 * 1024)
  for (let i = 0; ; i++) {
    const err = await filler.set(`filler:${i}`, blob).then(() => null, (e: Error) => e)
    if (err) {
      t.match(err.message, /^OOM /, 'the server refuses writes: full, noeviction')
      t.equal(redis.cli('config', 'set', 'maxmemory', String(Math.floor(used / 2))), 'OK')
      return
    }
  }
}

t.test('a full Redis: admin disable answers 503 REVOCATION_UNCONFIRMED and the token is refused at once; logout and login answer 503', async t => {
  const redis = await startRedis(t, { args: ['--maxmemory-policy', 'noeviction'] })
  const app = await build(t, { ...LEGACY, REDIS_URL: redis.url })
  const admin = await legacyUser(t, app, 'admin')
  const victim = await legacyUser(t, app)
  const leaver = await legacyUser(t, app)
  await waitFor(() => redis.cli('exists', markerKey(app)) === '1', { what: 'the deny list loaded into Redis' })
  t.equal((await me(app, victim.headers)).statusCode, 200, 'the victim is signed in before')

  await fill(t, redis)

  const disable = await app.inject({ method: 'POST', url: `/api/admin/users/${victim.userId}/disable`, headers: admin.headers })
  t.equal(disable.statusCode, 503, 'not a 200 that Redis never confirmed, not a 500')
  t.equal(disable.json().code, 'REVOCATION_UNCONFIRMED')
  t.equal((await me(app, victim.headers)).statusCode, 401, 'the disabled user\'s access token is refused at once')
  t.equal(redis.cli('exists', markerKey(app)), '0', 'the deny list marker is gone: every instance asks Postgres')
  const sql = adminSql(t)
  const [row] = await sql<{ disabled: boolean; version: number }[]>`select disabled_at is not null as disabled, credential_version::int as version from users where id = ${victim.userId}`
  t.same(row, { disabled: true, version: 2 }, 'Postgres holds the disable and the version bump')
  await app.audit.flush()
  const [audited] = await sql<{ details: Record<string, unknown> }[]>`select details from audit_logs where type = 'ADMIN_USER_DISABLED' and user_id = ${victim.userId}`
  t.equal(audited?.details.redisConfirmed, false, 'the audit row says Redis did not confirm it')

  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: leaver.headers })
  t.equal(logout.statusCode, 503)
  t.equal(logout.json().code, 'REVOCATION_UNCONFIRMED')
  t.equal((await me(app, leaver.headers)).statusCode, 401, 'the logged-out token is refused')
  const [denied] = await sql<{ n: number }[]>`select count(*)::int as n from jwt_deny_list where user_id = ${leaver.userId}`
  t.ok((denied?.n ?? 0) >= 1, 'the deny-list row is in Postgres')

  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: leaver.email, password: PASSWORD } })
  t.equal(login.statusCode, 503, 'a login on a full Redis is a dependency failure')
  t.equal(login.json().code, 'DEPENDENCY_UNAVAILABLE')
  const registration = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: 'http://localhost:3000' }, payload: { email: uniqueEmail(), password: PASSWORD } })
  t.equal(registration.statusCode, 503)
  t.equal(registration.json().code, 'DEPENDENCY_UNAVAILABLE')

  // room again: the list is rebuilt from Postgres and both tokens stay refused by Redis alone
  t.equal(redis.cli('config', 'set', 'maxmemory', '0'), 'OK')
  await waitFor(async () => (await me(app, admin.headers)).statusCode === 200 && redis.cli('exists', markerKey(app)) === '1',
    { what: 'the deny list rebuilt', intervalMs: 100 })
  t.equal((await me(app, victim.headers)).statusCode, 401)
  t.equal((await me(app, leaver.headers)).statusCode, 401)
})

t.test('a read-only Redis (a replica after a failover): logout answers 503 REVOCATION_UNCONFIRMED, login 503, the token is refused', async t => {
  const redis = await startRedis(t)
  const primary = await startRedis(t, { args: ['--repl-diskless-sync-delay', '0'] })
  const app = await build(t, { ...LEGACY, REDIS_URL: redis.url })
  const user = await legacyUser(t, app)
  await waitFor(() => redis.cli('exists', markerKey(app)) === '1', { what: 'the deny list loaded into Redis' })

  t.equal(redis.cli('replicaof', '127.0.0.1', String(primary.port)), 'OK')
  await waitFor(() => /master_link_status:up/.test(redis.cli('info', 'replication')), { what: 'the replica in sync', intervalMs: 50, timeoutMs: 15_000 })
  t.match(redis.cli('set', 'probe', '1'), /^READONLY/, 'the server refuses writes')

  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: user.headers })
  t.equal(logout.statusCode, 503, 'not a 204 Redis never confirmed')
  t.equal(logout.json().code, 'REVOCATION_UNCONFIRMED')
  t.equal((await me(app, user.headers)).statusCode, 401, 'the logged-out token is refused')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: PASSWORD } })
  t.equal(login.statusCode, 503)
  t.equal(login.json().code, 'DEPENDENCY_UNAVAILABLE')
})

t.test('a stalled Redis (DEBUG SLEEP): a Bearer request answers 503 before Redis wakes', async t => {
  const redis = await startRedis(t, { args: ['--enable-debug-command', 'yes'] })
  const app = await build(t, { ...LEGACY, REDIS_URL: redis.url })
  const user = await legacyUser(t, app)
  const sleeper = new Redis(redis.url)
  t.teardown(() => sleeper.disconnect())
  let awake = false
  const sleeping = sleeper.call('debug', 'sleep', '4').then(() => { awake = true })
  await delay(100) // the sleep has begun
  const started = Date.now()
  const res = await me(app, user.headers)
  t.comment(`answered after ${Date.now() - started} ms (command timeout 2000 ms)`)
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'DEPENDENCY_UNAVAILABLE')
  t.equal(awake, false, 'the answer did not wait for Redis to wake')
  await sleeping
})

// Real replies of a real server: a script answers with each refusal a Redis can give
const REFUSALS = [
  'OOM command not allowed when used memory > \'maxmemory\'.',
  'READONLY You can\'t write against a read only replica.',
  'CLUSTERDOWN The cluster is down',
  'MOVED 3999 127.0.0.1:6381',
  'ASK 3999 127.0.0.1:6381',
  'TRYAGAIN Multiple keys request during rehashing of slot',
  'LOADING Redis is loading the dataset in memory',
  'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT.',
  'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to \'no\'.',
  'NOREPLICAS Not enough good replicas to write.',
  'MISCONF Redis is configured to save RDB snapshots, but it\'s currently unable to persist to disk.',
  'NOAUTH Authentication required.',
  'WRONGPASS invalid username-password pair or user is disabled.',
  'NOPERM User default has no permissions to run the \'get\' command'
]

t.test('every class of Redis refusal answers 503 DEPENDENCY_UNAVAILABLE; a bug in a script stays a 500', async t => {
  const redis = await startRedis(t)
  const app = await build(t, { REDIS_URL: redis.url }, {
    routes: app => {
      app.get('/test/redis-refusal/:i', async request => {
        const i = Number((request.params as { i: string }).i)
        return app.redis.eval('return redis.error_reply(ARGV[1])', 0, REFUSALS[i]!)
      })
      app.get('/test/redis-bug', async () => app.redis.eval('return redis.call(\'incr\', KEYS[1], 1, 2)', 1, 'k'))
      app.get('/test/redis-wrongtype', async () => {
        await app.redis.set('plain', '1')
        return app.redis.hget('plain', 'field')
      })
    }
  })
  for (const [i, reply] of REFUSALS.entries()) {
    const res = await app.inject({ method: 'GET', url: `/test/redis-refusal/${i}` })
    t.same([res.statusCode, res.json().code], [503, 'DEPENDENCY_UNAVAILABLE'], reply.split(' ')[0]!)
  }
  for (const url of ['/test/redis-bug', '/test/redis-wrongtype']) {
    const res = await app.inject({ method: 'GET', url })
    t.same([res.statusCode, res.json().code], [500, 'INTERNAL_ERROR'], `${url}: a wrong command is ours to fix`)
  }

  await redis.kill()
  const down = await app.inject({ method: 'GET', url: '/test/redis-refusal/0' })
  t.same([down.statusCode, down.json().code], [503, 'DEPENDENCY_UNAVAILABLE'], 'a killed server')
})
