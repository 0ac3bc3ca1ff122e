import t from 'tap'
import { build } from './helper.js'

t.test('liveness answers without I/O; readiness checks both services', async t => {
  const app = await build(t)
  const live = await app.inject('/api/health')
  t.equal(live.statusCode, 200)
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject('/api/health/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json().checks, { redis: { ok: true }, postgres: { ok: true } })
})

t.test('readiness is 503 naming Redis when it points at a closed port, quickly', async t => {
  const app = await build(t, { REDIS_URL: 'redis://127.0.0.1:1' })
  const started = Date.now()
  const res = await app.inject('/api/health/ready')
  t.equal(res.statusCode, 503)
  const body = res.json()
  t.equal(body.checks.redis.ok, false)
  t.equal(body.checks.postgres.ok, true)
  t.match(body.reason, /redis/)
  t.ok(Date.now() - started < 2500, 'answers within the probe timeout')
  t.equal((await app.inject('/api/health')).statusCode, 200, 'liveness stays up')
  t.equal((await app.inject('/api/health/auth-v2')).statusCode, 503)
})

t.test('readiness is 503 naming Postgres when it points at a closed port', async t => {
  const app = await build(t, { DATABASE_URL: 'postgres://hallpass_app@127.0.0.1:1/hallpass_test' })
  const res = await app.inject('/api/health/ready')
  t.equal(res.statusCode, 503)
  t.match(res.json(), { checks: { redis: { ok: true }, postgres: { ok: false } }, reason: /postgres/ })
  const legacy = await app.inject('/api/health/auth-legacy')
  t.equal(legacy.statusCode, 503, 'legacy auth needs Postgres')
  t.equal((await app.inject('/api/health/auth-v2')).statusCode, 200, 'sessions do not')
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
