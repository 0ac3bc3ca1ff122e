// The near cache: revocation on instance A is refused on instance B long before the cache TTL,
// and a dropped invalidation link empties the cache instead of serving from it.
import t from 'tap'
import type { Redis } from 'ioredis'
import { build, uniquePrefix, waitFor } from './helper.js'
import { browser, login, me, register } from './auth-helper.js'

async function untilActive (app: { sessionCache: { active: boolean } | null }): Promise<void> {
  await waitFor(() => app.sessionCache?.active, { what: 'the near cache subscribed' })
}

t.test('a cache hit answers from process memory, without Redis', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '5s' })
  await untilActive(app)
  const user = await register(app)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  // the session's keys vanish behind the cache's back (not a revocation): the cache still answers…
  const redis = app.redis as Redis
  const keys = await redis.keys(`${app.config.redis.keyPrefix}*:s:*`)
  await redis.del(...keys)
  t.equal((await me(app, user.cookie)).statusCode, 200, 'served from process memory')
})

t.test('revoked on instance A, refused on instance B well within the cache TTL', async t => {
  const prefix = uniquePrefix()
  const a = await build(t, { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '30s' })
  const b = await build(t, { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '30s' })
  await untilActive(a)
  await untilActive(b)
  const user = await register(a)
  const other = await login(a, user.email)
  t.equal((await me(b, other.cookie)).statusCode, 200, 'B caches the session')

  const sessions = (await a.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(user.cookie) })).json().sessions
  const target = sessions.find((s: { current: boolean }) => !s.current).id
  t.equal((await a.inject({ method: 'DELETE', url: `/api/auth/sessions/${target}`, headers: browser(user.cookie) })).statusCode, 204)
  // B's cached entry would live 30 s; a refusal within the 5 s deadline can only come from the
  // revocation message (waitFor yields between polls so B's subscriber gets read)
  const refused = await waitFor(async () => { const res = await me(b, other.cookie); return res.statusCode !== 200 && res }, { timeoutMs: 5000, what: 'B refuses the revoked session' })
  t.equal(refused.statusCode, 401, 'refused on B long before the cache TTL')
  t.equal(refused.json().code, 'SESSION_EXPIRED')
  t.equal((await me(a, other.cookie)).statusCode, 401, 'and on A at once')
})

t.test('when the invalidation link drops the cache empties and is bypassed', async t => {
  const prefix = uniquePrefix()
  const a = await build(t, { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '30s' })
  const b = await build(t, { REDIS_KEY_PREFIX: prefix, SESSION_CACHE_TTL: '30s' })
  await untilActive(b)
  const user = await register(a)
  t.equal((await me(b, user.cookie)).statusCode, 200, 'cached on B')

  // cut B's subscriber (found by its own address) and, while it is away, revoke on A
  const sub = b.sessionCache!.subscriber as unknown as { stream?: { localAddress?: string; localPort?: number } }
  const addr = `${sub.stream?.localAddress}:${sub.stream?.localPort}`
  t.equal(await (a.redis as Redis).call('CLIENT', 'KILL', 'ADDR', addr), 1, 'the subscriber connection was cut')
  await waitFor(() => !b.sessionCache!.active, { timeoutMs: 2000, what: 'B notices the drop' }).catch(() => {})
  t.equal(b.sessionCache!.active, false, 'B notices the link is down')
  await a.inject({ method: 'POST', url: '/api/auth/logout-all', headers: browser(user.cookie) })
  t.equal((await me(b, user.cookie)).statusCode, 401, 'B asks Redis instead of its emptied cache')
  await untilActive(b)
  t.equal(b.sessionCache!.active, true, 'and resubscribes')
})

t.test('SESSION_CACHE_TTL=0 turns the cache off', async t => {
  const app = await build(t, { SESSION_CACHE_TTL: '0' })
  t.equal(app.sessionCache, null)
  const user = await register(app)
  await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(user.cookie) })
  t.equal((await me(app, user.cookie)).statusCode, 401)
})
