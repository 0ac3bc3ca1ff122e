// The auto-rollback guard: trips on server errors above 1 % of auth requests once 200 were seen,
// not below the rate and not below the sample; its override reaches another instance within
// 1 s, sends new logins to legacy and logs nobody out; it can be cleared.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, uniquePrefix, waitFor } from './helper.js'
import { login, me, register } from './auth-helper.js'
import { clearOverride, overrideKey } from '../src/auth/rollout-override.js'
import { register as metrics } from '../src/ops/metrics.js'

const withTestRoutes = {
  routes: (app: FastifyInstance) => {
    app.get('/api/auth/test-ok', async () => ({ ok: true }))
    app.get('/api/auth/test-boom', async () => { throw new Error('injected server error') })
  }
}

async function traffic (app: FastifyInstance, ok: number, failed: number): Promise<void> {
  for (let i = 0; i < ok; i++) if ((await app.inject({ method: 'GET', url: '/api/auth/test-ok' })).statusCode !== 200) throw new Error('ok route failed')
  for (let i = 0; i < failed; i++) if ((await app.inject({ method: 'GET', url: '/api/auth/test-boom' })).statusCode !== 500) throw new Error('boom route did not fail')
}

async function trips (): Promise<number> {
  const m = await metrics.getSingleMetricAsString('hallpass_auto_rollback_trips_total')
  return Number(/trigger="error_rate"\} (\d+)/.exec(m)?.[1] ?? 0)
}

t.test('below the minimum sample: 10 errors in 199 requests do not trip it', async t => {
  const app = await build(t, { AUTO_ROLLBACK: 'true' }, withTestRoutes)
  await traffic(app, 189, 10)
  t.equal(await app.ops.evaluateGuard(), false)
  t.equal(await app.redis.get(overrideKey(app.config.redis.keyPrefix)), null, 'no override written')
})

t.test('at the rate: 2 errors in 200 requests (1.0 %) do not trip it', async t => {
  const app = await build(t, { AUTO_ROLLBACK: 'true' }, withTestRoutes)
  await traffic(app, 198, 2)
  t.equal(app.ops.authErrorRatePercent(), 1)
  t.equal(await app.ops.evaluateGuard(), false)
  t.equal(await app.redis.get(overrideKey(app.config.redis.keyPrefix)), null, 'no override written')
})

t.test('above it: 3 in 200 trips; the other instance applies it within 1 s; nobody is logged out', async t => {
  const prefix = uniquePrefix()
  const a = await build(t, { AUTO_ROLLBACK: 'true', REDIS_KEY_PREFIX: prefix }, withTestRoutes)
  const b = await build(t, { REDIS_KEY_PREFIX: prefix })
  const before = await register(b) // a session made before the rollback
  t.ok(before.cookie, 'registered with a session at 100 %')
  const tripsBefore = await trips()

  await traffic(a, 197, 3)
  const started = Date.now()
  t.equal(await a.ops.evaluateGuard(), true, 'tripped')
  await waitFor(() => b.rolloutOverride.current !== null, { timeoutMs: 1000, what: 'override on instance b' })
  t.ok(Date.now() - started <= 1000, `reached the other instance in ${Date.now() - started} ms`)
  t.equal(await trips() - tripsBefore, 1, 'counted once')
  t.equal(await a.ops.evaluateGuard(), false, 'a standing override is not written again')
  t.equal(await trips() - tripsBefore, 1, 'still once')

  t.equal((await me(b, before.cookie)).statusCode, 200, 'the existing session still works')
  const fresh = await login(b, before.email)
  t.equal(fresh.res.statusCode, 200)
  t.equal(fresh.res.json().auth.mode, 'legacy', 'a new login goes legacy')
  t.equal(fresh.cookie, '', 'and gets no session cookie')
  const status = (await b.inject({ method: 'GET', url: '/api/auth/status' })).json()
  t.equal(status.effectivePercentage, 0)
  t.equal(status.flags.newAuthPercentage, 100, 'the configured value is untouched')
  t.match(status.override, { maxPercentage: 0, reason: /^auto-rollback: 3 of 200 auth requests failed/ })

  t.equal(await clearOverride(b.redis, prefix), true)
  await waitFor(() => a.rolloutOverride.current === null, { timeoutMs: 1000, what: 'cleared on instance a' })
  const again = await login(a, before.email)
  t.ok(again.cookie, 'after clearing, logins get sessions again')
})
