import t from 'tap'
import { adminSql, build, delay, waitFor } from './helper.js'

t.test('liveness answers without I/O; readiness checks both services', async t => {
  const app = await build(t)
  const live = await app.inject('/api/health')
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject('/api/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ok', checks: { redis: { ok: true }, postgres: { ok: true }, eventLoop: { ok: true } } })
})

t.test('Redis unreachable: readiness stays 200 "degraded" (Postgres is the fallback), naming the address and the cause, quickly', async t => {
  const app = await build(t, { REDIS_URL: 'redis://127.0.0.1:1' })
  const started = Date.now()
  const res = await app.inject('/api/health/ready')
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'degraded')
  t.same(body.checks.redis, { ok: false, reason: 'redis 127.0.0.1:1: connection refused' })
  t.equal(body.checks.postgres.ok, true)
  t.equal(body.reason, 'degraded: redis 127.0.0.1:1: connection refused')
  t.ok(Date.now() - started < 2500, 'answers within the probe timeout')
  t.equal((await app.inject('/api/health')).statusCode, 200, 'liveness stays up')
  t.equal((await app.inject('/api/health/auth-v2')).statusCode, 503)
})

t.test('Postgres unreachable: readiness stays 200 "degraded" naming its address and the cause', async t => {
  const app = await build(t, { DATABASE_URL: 'postgres://hallpass_app:not-for-logs@127.0.0.1:1/hallpass_test' })
  const res = await app.inject('/api/health/ready')
  t.equal(res.statusCode, 200)
  t.same(res.json(), {
    status: 'degraded',
    checks: { redis: { ok: true }, postgres: { ok: false, reason: 'postgres 127.0.0.1:1: connection refused' }, eventLoop: { ok: true } },
    reason: 'degraded: postgres 127.0.0.1:1: connection refused'
  })
  t.notMatch(res.body, /not-for-logs/, 'no credential in the answer')
  const legacy = await app.inject('/api/health/auth-legacy')
  t.equal(legacy.statusCode, 503, 'legacy auth needs Postgres')
  t.equal((await app.inject('/api/health/auth-v2')).statusCode, 200, 'sessions do not')
})

t.test('Redis and Postgres both unreachable: readiness is 503, naming both', async t => {
  const app = await build(t, { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgres://hallpass_app@127.0.0.1:1/hallpass_test' })
  const res = await app.inject('/api/health/ready')
  t.equal(res.statusCode, 503)
  t.equal(res.json().status, 'unavailable')
  t.equal(res.json().reason, 'cannot serve: redis 127.0.0.1:1: connection refused; postgres 127.0.0.1:1: connection refused')
})

t.test('a table lock that fills the pool does not fail readiness: the probe has its own connection', async t => {
  const app = await build(t, { PG_POOL_MAX: '2', PG_QUERY_TIMEOUT: '4s' })
  const admin = adminSql(t)
  // the lock holder: ACCESS EXCLUSIVE on portfolios for 3 s, in a transaction of its own
  const held = admin.begin(async tx => {
    await tx`lock table portfolios in access exclusive mode`
    await delay(3000)
  })
  await delay(200)
  // both pool connections now wait on the lock
  const blocked = Array.from({ length: 4 }, () => app.db.sql`select count(*) from portfolios`.catch(() => 'refused'))
  await waitFor(() => app.db.poolStats().waiting === 2, { what: 'four queries started' })
  t.equal(app.db.poolStats().inUse, 2, 'the pool is full of queries waiting on the lock')
  t.same(app.db.poolStats(), { inUse: 2, waiting: 2, max: 2, breakerOpen: false }, 'and two more wait for a connection')
  for (let i = 0; i < 5; i++) {
    const res = await app.inject('/api/health/ready')
    t.equal(res.statusCode, 200, `probe ${i + 1} during the lock answers 200`)
    t.equal(res.json().status, 'ok', 'and Postgres counts as up')
    await delay(200)
  }
  await held
  await Promise.all(blocked)
})

t.test('a stalled event loop fails readiness, naming the stall', async t => {
  const app = await build(t)
  await app.inject('/api/health/ready') // resets the window
  const until = Date.now() + 2300
  while (Date.now() < until) { /* the stall: nothing else runs */ }
  await delay(50) // let the delay monitor record it
  const res = await app.inject('/api/health/ready')
  t.equal(res.statusCode, 503)
  t.match(res.json().checks.eventLoop.reason, /^event loop stalled for \d+ ms \(limit 2000 ms\)$/)
  t.equal((await app.inject('/api/health/ready')).statusCode, 200, 'ready again once the loop runs')
})

t.test('auth path probes follow the rollout flags', async t => {
  const normal = await build(t)
  t.equal((await normal.inject('/api/health/auth-v2')).statusCode, 200)
  t.equal((await normal.inject('/api/health/auth-legacy')).statusCode, 200)

  const rollback = await build(t, { ROLLBACK_MODE: 'true' })
  const v2 = await rollback.inject('/api/health/auth-v2')
  t.equal(v2.statusCode, 503)
  t.match(v2.json().reason, /ROLLBACK_MODE/)
  t.equal((await rollback.inject('/api/health/auth-legacy')).statusCode, 200)

  const nobody = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const zero = await nobody.inject('/api/health/auth-v2')
  t.equal(zero.statusCode, 503, 'at 0 % sessions are issued to nobody')
  t.match(zero.json(), { status: 'unavailable', reason: /NEW_AUTH_PERCENTAGE is 0/ })
  t.equal((await nobody.inject('/api/health/auth-legacy')).statusCode, 200, 'the legacy path serves everyone')
  const one = await build(t, { NEW_AUTH_PERCENTAGE: '1' })
  t.equal((await one.inject('/api/health/auth-v2')).statusCode, 200, 'at 1 % it is on')

  const off = await build(t, { NEW_AUTH_ENABLED: 'false' })
  t.match((await off.inject('/api/health/auth-v2')).json().reason, /NEW_AUTH_ENABLED/)

  const lockdown = await build(t, { SECURITY_LOCKDOWN: 'true' })
  t.equal((await lockdown.inject('/api/health/auth-v2')).statusCode, 503)
  t.match((await lockdown.inject('/api/health/auth-legacy')).json().reason, /SECURITY_LOCKDOWN/)
  t.equal((await lockdown.inject('/api/health/ready')).statusCode, 200, 'health stays up in lockdown')
})

t.test('unknown routes get the stable error shape', async t => {
  const app = await build(t)
  const res = await app.inject('/api/nope')
  t.equal(res.statusCode, 404)
  t.same(Object.keys(res.json()).sort(), ['code', 'error', 'message', 'statusCode'])
})
