// The per-IP limits: counted in Redis (shared by instances), answered with the house 429
// shape and Retry-After, refused (503) rather than skipped when Redis is down.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { parseConfig, type Config, type Env } from '../src/config/config.js'
import { routeRateLimit } from '../src/core/rate-limits.js'
import { build, testConfig, uniquePrefix } from './helper.js'

const LIMITED = '/api/test/limited'

/** like build(t), with a route limited as 'login' and one not limited at all */
async function buildLimited (t: Test, overrides: Env = {}): Promise<{ app: FastifyInstance; config: Config }> {
  const app = await build(t, { RATE_LIMIT_LOGIN: '3/1m', ...overrides }, {
    routes: app => {
      app.post(LIMITED, { config: routeRateLimit(app.config, 'login') }, async () => ({ ok: true }))
      app.post('/api/test/unlimited', async () => ({ ok: true }))
    }
  })
  return { app, config: app.config }
}

const hit = (app: FastifyInstance, remoteAddress = '10.1.2.3') => app.inject({ method: 'POST', url: LIMITED, remoteAddress })

t.test('routeRateLimit reads each kind from the config', async t => {
  const config = testConfig({ RATE_LIMIT_LOGIN: '7/2m', RATE_LIMIT_REFRESH: '9/30s', RATE_LIMIT_REGISTER: '4/1h' })
  t.same(routeRateLimit(config, 'login'), { rateLimit: { max: 7, timeWindow: 120_000 } })
  t.same(routeRateLimit(config, 'refresh'), { rateLimit: { max: 9, timeWindow: 30_000 } })
  t.same(routeRateLimit(config, 'register'), { rateLimit: { max: 4, timeWindow: 3_600_000 } })
  const defaults = testConfig()
  t.same(routeRateLimit(defaults, 'login'), { rateLimit: { max: 100, timeWindow: 15 * 60_000 } })
  t.same(routeRateLimit(defaults, 'refresh'), { rateLimit: { max: 50, timeWindow: 15 * 60_000 } })
  // the test environment raises the register limit for every file; the product default is 10/1h
  t.same(routeRateLimit(parseConfig({}).config, 'register'), { rateLimit: { max: 10, timeWindow: 60 * 60_000 } })
})

t.test('the 4th request of 3/1m is a 429 in the house shape with Retry-After', async t => {
  const { app, config } = await buildLimited(t)
  for (let i = 1; i <= 3; i++) {
    const res = await hit(app)
    t.equal(res.statusCode, 200, `request ${i}`)
    t.equal(res.headers['x-ratelimit-remaining'], String(3 - i))
  }
  const res = await hit(app)
  t.equal(res.statusCode, 429)
  const body = res.json()
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'])
  t.match(body, { statusCode: 429, code: 'RATE_LIMITED', error: 'Too Many Requests', message: /retry in \d+ s/ })
  const retryAfter = Number(res.headers['retry-after'])
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers['retry-after']} is whole seconds within the window`)
  t.equal(res.headers['x-content-type-options'], 'nosniff', 'the error went through the normal reply path')

  // the counter is in Redis under the app's prefix, expiring with the window
  const redis = app.redis
  const key = `${config.redis.keyPrefix}rl:POST${LIMITED}-10.1.2.3`
  t.equal(await redis.get(key), '4')
  const ttl = await redis.pttl(key)
  t.ok(ttl > 0 && ttl <= 60_000, `counter expires with the window (${ttl} ms)`)
})

t.test('two instances with the same key prefix share one counter', async t => {
  const prefix = uniquePrefix()
  const a = (await buildLimited(t, { REDIS_KEY_PREFIX: prefix })).app
  const b = (await buildLimited(t, { REDIS_KEY_PREFIX: prefix })).app
  t.equal((await hit(a)).statusCode, 200)
  t.equal((await hit(a)).statusCode, 200)
  t.equal((await hit(b)).statusCode, 200)
  t.equal((await hit(b)).statusCode, 429, "B's second request is the 4th overall")
  t.equal((await hit(a)).statusCode, 429)
})

t.test('counters are per client IP; routes without the option are not limited', async t => {
  const { app } = await buildLimited(t)
  for (let i = 0; i < 4; i++) await hit(app, '10.0.0.1')
  t.equal((await hit(app, '10.0.0.1')).statusCode, 429)
  t.equal((await hit(app, '10.0.0.2')).statusCode, 200, 'another IP has its own budget')
  for (let i = 0; i < 6; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/test/unlimited', remoteAddress: '10.0.0.1' })
    t.equal(res.statusCode, 200)
    t.notOk('x-ratelimit-limit' in res.headers)
  }
  t.notOk('x-ratelimit-limit' in (await app.inject('/api/health')).headers, 'global: false')
})

// The load balancer appends the address it saw; anything to its left came from the client.
const viaProxy = (app: FastifyInstance, forwardedFor: string) =>
  app.inject({ method: 'POST', url: LIMITED, remoteAddress: '10.9.9.9', headers: { 'x-forwarded-for': forwardedFor } })

for (const [setting, value] of [['a hop count', '1'], ['the proxy\'s CIDR', '10.9.0.0/16']] as const) {
  t.test(`behind a proxy (${setting}) the client IP is the proxy's entry; a forged leftmost one is ignored`, async t => {
    const { app } = await buildLimited(t, { TRUST_PROXY: value })
    // a fresh forged address on every request, as an attacker would send to get fresh buckets
    for (let i = 0; i < 3; i++) t.equal((await viaProxy(app, `198.51.100.${i}, 203.0.113.7`)).statusCode, 200)
    t.equal((await viaProxy(app, '198.51.100.99, 203.0.113.7')).statusCode, 429, 'the forged address bought no new bucket')
    t.equal((await viaProxy(app, '203.0.113.8')).statusCode, 200, 'the same proxy, another client')
  })
}

t.test('a client that is not the trusted proxy cannot set its address at all', async t => {
  const { app } = await buildLimited(t, { TRUST_PROXY: '10.9.0.0/16' })
  const direct = (forged: string) => app.inject({ method: 'POST', url: LIMITED, remoteAddress: '192.0.2.50', headers: { 'x-forwarded-for': forged } })
  for (let i = 0; i < 3; i++) t.equal((await direct(`198.51.100.${i}`)).statusCode, 200)
  t.equal((await direct('198.51.100.77')).statusCode, 429)
})

t.test('fails closed: with Redis down a limited route answers 503, quickly', async t => {
  const { app } = await buildLimited(t, { REDIS_URL: 'redis://127.0.0.1:1', REDIS_CLUSTER_NODES: '' })
  const started = Date.now()
  const res = await hit(app)
  t.equal(res.statusCode, 503)
  t.match(res.json(), { statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE' })
  t.ok(Date.now() - started < 2500, 'no hang')
  t.equal((await app.inject({ method: 'POST', url: '/api/test/unlimited' })).statusCode, 200, 'unlimited routes do not touch Redis')
})
