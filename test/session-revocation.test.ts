// Revocation: published on one channel, never accepted again; Redis holds no usable credential;
// malformed cookies are refused without a Redis call.
import t from 'tap'
import { once } from 'node:events'
import type { Redis } from 'ioredis'
import { build, testConfig } from './helper.js'
import { createRedis } from '../src/infra/redis.js'
import { browser, login, me, register } from './auth-helper.js'

t.test('a revocation is published {publicId, userId, reason, at} and the cookie never works again', async t => {
  const app = await build(t)
  const a = await register(app)
  const b = await login(app, a.email)
  const sub = createRedis(testConfig().redis, { enableOfflineQueue: true }) as Redis
  t.teardown(() => sub.disconnect())
  await sub.subscribe(app.sessions.channel)

  const list = (await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(a.cookie) })).json().sessions
  const other = list.find((s: { current: boolean }) => !s.current)
  const message = once(sub, 'message')
  const sent = Date.now()
  const res = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, headers: browser(a.cookie) })
  t.equal(res.statusCode, 204)
  const [channel, payload] = await message
  t.equal(channel, app.sessions.channel)
  const { at, ...fields } = JSON.parse(payload) as { at: unknown }
  t.same(fields, { publicId: other.id, userId: a.userId, reason: 'revoked' })
  // its publish time by Redis' clock (the same machine's here): the propagation histogram's start
  t.ok(typeof at === 'number' && at >= sent - 5 && at <= Date.now() + 5, `published at ${String(at)}`)
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
  // counts the real Postgres lookups of the fallback (the query still runs)
  let lookups = 0
  const findLive = app.sessionRecords.findLive
  app.sessionRecords.findLive = async keyHash => { lookups++; return findLive(keyHash) }
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
    // a cookie that came and does not validate is told apart from none, and cleared
    t.equal(res.json().code, value === '' ? 'AUTH_REQUIRED' : 'SESSION_EXPIRED', name)
  }
  t.equal(lookups, 0, 'no malformed cookie reached Redis or its Postgres fallback')
  const wellFormed = await me(app, `sid=${'A'.repeat(16)}.${'B'.repeat(43)}`)
  t.equal(wellFormed.statusCode, 401, 'a well-formed cookie reaches Redis (down here), then the Postgres record, which has no such session')
  t.equal(wellFormed.json().code, 'SESSION_EXPIRED')
  t.equal(lookups, 1, 'the well-formed one was looked up in Postgres')
})

t.test('a forged cookie with another user\'s tag is refused', async t => {
  const app = await build(t)
  const a = await register(app)
  const b = await register(app)
  const forged = `sid=${a.token.split('.')[0]}.${b.token.split('.')[1]}`
  t.equal((await me(app, forged)).statusCode, 401)
})
