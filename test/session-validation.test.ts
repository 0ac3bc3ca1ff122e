// The session check on every request: a plain read in the common case (the touch script only
// once per touch interval), a touch that never re-creates a deleted session, and the metrics
// the bench and /metrics read (the validation histogram, the near cache's hits and misses).
import t from 'tap'
import type { Redis } from 'ioredis'
import { register as registry } from 'prom-client'
import { build, waitFor } from './helper.js'
import { me, register } from './auth-helper.js'

type Named = { value: number; labels: Record<string, string | number>; metricName?: string }
type Touch = (...args: (string | number)[]) => Promise<unknown>

async function metricValue (name: string): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`${name} is not registered`)
  const values = (await metric.get()).values as Named[]
  const found = values.find(v => v.metricName === undefined || v.metricName === name || v.metricName === `${name}_count`)
  if (!found) throw new Error(`${name}: no value`)
  return found.value
}

function countTouches (app: { redis: unknown }): { calls: number } {
  const scripts = app.redis as { hpSessionTouch: Touch }
  const original = scripts.hpSessionTouch.bind(app.redis)
  const counter = { calls: 0 }
  scripts.hpSessionTouch = async (...args) => { counter.calls++; return original(...args) }
  return counter
}

t.test('within the touch interval a validation runs no script; past it, one touch slides the expiry', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0', SESSION_TOUCH_INTERVAL: '60s' })
  const touches = countTouches(app)
  const user = await register(app)
  for (let i = 0; i < 5; i++) t.equal((await me(app, user.cookie)).statusCode, 200)
  t.equal(touches.calls, 0, 'five validations, no touch script')

  const eager = await build(t, { SESSION_CACHE_TTL: '0', SESSION_TOUCH_INTERVAL: '0' })
  const eagerTouches = countTouches(eager)
  const other = await register(eager)
  t.equal((await me(eager, other.cookie)).statusCode, 200)
  t.equal((await me(eager, other.cookie)).statusCode, 200)
  t.equal(eagerTouches.calls, 2, 'a zero interval touches on every validation')
})

t.test('the touch never re-creates a session deleted since the read', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0' })
  const redis = app.redis as Redis & { hpSessionTouch: Touch }
  const key = `${app.config.redis.keyPrefix}{AAAAAAAAAAAAAAAA}:s:gone`
  t.equal(await redis.hpSessionTouch(key, 60_000, 0), null, 'no session, no touch')
  t.equal(await redis.exists(key), 0, 'and no key written')
})

t.test('the validation histogram has exact edges at 0.5, 1, 5 and 10 ms and counts each check', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0' })
  const user = await register(app)
  const before = await metricValue('hallpass_session_validation_seconds')
  t.equal((await me(app, user.cookie)).statusCode, 200)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  t.equal(await metricValue('hallpass_session_validation_seconds') - before, 2, 'two validations observed')
  const values = (await registry.getSingleMetric('hallpass_session_validation_seconds')!.get()).values as Named[]
  const edges = values.filter(v => v.metricName === 'hallpass_session_validation_seconds_bucket').map(v => v.labels.le)
  for (const le of [0.0005, 0.001, 0.005, 0.01]) t.ok(edges.includes(le), `an edge at exactly ${le} s`)
})

t.test('the near cache counts its hits and misses', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '30s' })
  await waitFor(() => app.sessionCache?.active, { what: 'the near cache subscribed' })
  const user = await register(app)
  const hits = await metricValue('hallpass_session_cache_hits_total')
  const misses = await metricValue('hallpass_session_cache_misses_total')
  t.equal((await me(app, user.cookie)).statusCode, 200)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  t.equal(await metricValue('hallpass_session_cache_misses_total') - misses, 1, 'the first check reads Redis')
  t.equal(await metricValue('hallpass_session_cache_hits_total') - hits, 2, 'the next two come from memory')
})
