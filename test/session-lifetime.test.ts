// Idle and absolute expiry, sliding renewal, eviction at the limit — what Redis holds after each.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { build, delay } from './helper.js'
import { me, register, login } from './auth-helper.js'
import { userTag } from '../src/auth/sessions/store.js'
import { decodeRecord } from '../src/auth/sessions/redis-record.js'
import { createHash } from 'node:crypto'

function sessionKey (app: FastifyInstance, userId: string, token: string): string {
  const secret = token.split('.')[1]!
  return `${app.config.redis.keyPrefix}{${userTag(userId)}}:s:${createHash('sha256').update(secret).digest('base64url')}`
}

t.test('idle expiry: an unused session ends, and Redis drops it', async t => {
  const app = await build(t, { SESSION_IDLE_TIMEOUT: '2', SESSION_ABSOLUTE_TIMEOUT: '1h', SESSION_TOUCH_INTERVAL: '1' })
  const user = await register(app)
  const redis = app.redis as Redis
  const pttl = await redis.pttl(sessionKey(app, user.userId, user.token))
  t.ok(pttl > 1000 && pttl <= 2000, `TTL follows the idle timeout (${pttl} ms)`)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  await delay(2300)
  t.equal((await me(app, user.cookie)).statusCode, 401)
  t.equal(await redis.exists(sessionKey(app, user.userId, user.token)), 0)
})

t.test('sliding renewal writes at most once per touch interval and keeps a used session alive', async t => {
  const app = await build(t, { SESSION_IDLE_TIMEOUT: '3', SESSION_ABSOLUTE_TIMEOUT: '1h', SESSION_TOUCH_INTERVAL: '1' })
  const user = await register(app)
  const redis = app.redis as Redis
  const key = sessionKey(app, user.userId, user.token)
  const seen = async (): Promise<number | undefined> => decodeRecord(await redis.get(key) ?? '')?.lastSeenAt
  const created = await seen()
  t.ok(created !== undefined && created > 0, 'the record holds its last-seen time')

  await me(app, user.cookie)
  await me(app, user.cookie)
  t.equal(await seen(), created, 'no write within the interval')

  await delay(1100)
  await me(app, user.cookie)
  const touched = await seen()
  t.ok(Number(touched) > Number(created), 'one write after the interval')
  await me(app, user.cookie)
  t.equal(await seen(), touched, 'and none again right after')

  await delay(1100)
  await me(app, user.cookie)
  await delay(1200) // 3.4 s after login: past the first idle deadline, within the renewed one
  t.equal((await me(app, user.cookie)).statusCode, 200, 'still alive because it was used')
})

t.test('absolute expiry ends a session even while it is in use', async t => {
  const app = await build(t, { SESSION_IDLE_TIMEOUT: '2', SESSION_ABSOLUTE_TIMEOUT: '3', SESSION_TOUCH_INTERVAL: '0' })
  const user = await register(app)
  const redis = app.redis as Redis
  const key = sessionKey(app, user.userId, user.token)
  for (let i = 0; i < 5; i++) {
    t.equal((await me(app, user.cookie)).statusCode, 200)
    await delay(500)
  }
  const pttl = await redis.pttl(key)
  t.ok(pttl <= 1000, `the TTL never passes the absolute expiry (${pttl} ms left)`)
  await delay(800)
  t.equal((await me(app, user.cookie)).statusCode, 401)
  t.equal(await redis.exists(key), 0)
})

t.test('a login beyond MAX_SESSIONS_PER_USER evicts the oldest session', async t => {
  const app = await build(t, { MAX_SESSIONS_PER_USER: '2' })
  const first = await register(app)
  const second = await login(app, first.email)
  const third = await login(app, first.email)
  t.equal((await me(app, first.cookie)).statusCode, 401, 'the oldest is gone')
  t.equal((await me(app, second.cookie)).statusCode, 200)
  t.equal((await me(app, third.cookie)).statusCode, 200)
  const redis = app.redis as Redis
  t.equal(await redis.exists(sessionKey(app, first.userId, first.token)), 0)
  const index = await redis.zrange(`${app.config.redis.keyPrefix}{${userTag(first.userId)}}:idx:${first.userId}`, 0, -1)
  t.equal(index.length, 2, 'the index holds exactly the live sessions')
})

t.test('concurrent logins keep the per-user index exact', async t => {
  // the account backoff reserves an attempt per concurrent password check: not what this tests
  const app = await build(t, { MAX_SESSIONS_PER_USER: '5', LOGIN_BACKOFF_THRESHOLD: '100' })
  const user = await register(app)
  const logins = await Promise.all(Array.from({ length: 12 }, () => login(app, user.email)))
  t.ok(logins.every(l => l.res.statusCode === 200))
  const list = await app.sessions.list(user.userId)
  t.equal(list.length, 5, 'never more than the limit, never a lost entry')
  const valid = (await Promise.all([user, ...logins].map(l => me(app, l.cookie)))).filter(r => r.statusCode === 200)
  t.equal(valid.length, 5, 'exactly the listed sessions still work')
})
