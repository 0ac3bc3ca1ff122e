// Revocation: published on one channel, never accepted again; Redis holds no usable credential;
// malformed cookies are refused without a Redis call.
import t from 'tap'
import { once } from 'node:events'
import type { Redis } from 'ioredis'
import { build, testConfig } from './helper.js'
import { createRedis } from '../src/infra/redis.js'
import { browser, login, me, register } from './auth-helper.js'

t.test('a revocation is published {publicId, userId, reason} and the cookie never works again', async t => {
  const app = await build(t)
  const a = await register(app)
  const b = await login(app, a.email)
  const sub = createRedis(testConfig().redis, { enableOfflineQueue: true }) as Redis
  t.teardown(() => sub.disconnect())
  await sub.subscribe(app.sessions.channel)

  const list = (await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(a.cookie) })).json().sessions
  const other = list.find((s: { current: boolean }) => !s.current)
  const message = once(sub, 'message')
  const res = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: browser(a.cookie) })
  t.equal(res.statusCode, 204)
  const [channel, payload] = await message
  t.equal(channel, app.sessions.channel)
  t.same(JSON.parse(payload), { publicId: other.id, userId: a.userId, reason: 'revoked' })
  t.equal((await me(app, b.cookie)).statusCode, 401)
  t.equal((await me(app, b.cookie)).statusCode, 401, 'and stays refused')
  t.equal((await me(app, a.cookie)).statusCode, 200)
})

t.test('Redis holds neither the session secret nor the cookie value', async t => {
  const app = await build(t)
  const user = await register(app)
  const redis = app.redis as Redis
  const keys = await redis.keys(`${app.config.redis.keyPrefix}*`)
  t.ok(keys.length >= 2, 'a session and an index')
  const secret = user.token.split('.')[1]!
  // one assertion per question, whatever the number of keys (the prefix may hold other data)
  const leaking: string[] = []
  for (const key of keys) {
    const type = await redis.type(key)
    const content = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'zset' ? JSON.stringify(await redis.zrange(key, 0, -1)) : String(await redis.get(key).catch(() => ''))
    if (key.includes(secret) || content.includes(secret)) leaking.push(`${type} ${key}`)
  }
  t.same(leaking, [], `none of ${keys.length} keys holds the secret, in its name or its value`)
})

t.test('malformed cookies are a plain 401 without touching Redis', async t => {
  // Redis at a closed port: any Redis call would make this a 503, not a 401
  const app = await build(t, { REDIS_URL: 'redis://127.0.0.1:1' })
  const cases = {
    empty: '',
    short: 'abc',
    'wrong length': 'A'.repeat(16) + '.' + 'B'.repeat(42),
    'bad characters': 'A'.repeat(16) + '.' + 'B'.repeat(42) + '$',
    'no separator': 'A'.repeat(60),
    'sql text': "x' or '1'='1",
    '10 KB': 'A'.repeat(10 * 1024),
    'percent-encoded junk': '%E0%A4%A'
  }
  for (const [name, value] of Object.entries(cases)) {
    const res = await me(app, `sid=${value}`)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().code, 'AUTH_REQUIRED', name)
  }
  const wellFormed = await me(app, `sid=${'A'.repeat(16)}.${'B'.repeat(43)}`)
  t.equal(wellFormed.statusCode, 503, 'a well-formed cookie does reach Redis (which is down here)')
  t.equal(wellFormed.json().code, 'DEPENDENCY_UNAVAILABLE')
})

t.test('a forged cookie with another user\'s tag is refused', async t => {
  const app = await build(t)
  const a = await register(app)
  const b = await register(app)
  const forged = `sid=${a.token.split('.')[0]}.${b.token.split('.')[1]}`
  t.equal((await me(app, forged)).statusCode, 401)
})
