// Sessions across Redis failures, with a private redis-server killed, stalled and flushed for
// real: Postgres holds the truth, so a revoked session is never accepted, a live one survives an
// empty restart, and a revocation during a stall is durable and audited.
import t from 'tap'
import { build, delay, adminSql, waitFor } from './helper.js'
import { browser, me, register, type LoggedIn } from './auth-helper.js'
import { startRedis } from './fault-processes.js'

const ENV = { NEW_AUTH_ENABLED: 'true', NEW_AUTH_PERCENTAGE: '100', MAX_SESSIONS_PER_USER: '10' }

const revoke = (app: Parameters<typeof me>[0], u: LoggedIn, id: string) =>
  app.inject({ method: 'DELETE', url: `/api/auth/sessions/${id}`, headers: browser(u.cookie) })
const sessionIdOf = async (app: Parameters<typeof me>[0], u: LoggedIn): Promise<string> => (await me(app, u.cookie)).json().auth.sessionId

t.test('a cookie that no longer validates: 401 SESSION_EXPIRED and a Set-Cookie that clears it', async t => {
  const app = await build(t, ENV)
  const u = await register(app)
  const logout = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(u.cookie) })
  t.equal(logout.statusCode, 204)
  const res = await me(app, u.cookie)
  t.equal(res.statusCode, 401)
  t.equal(res.json().code, 'SESSION_EXPIRED')
  const cleared = [res.headers['set-cookie']].flat().find(c => c?.startsWith('sid='))
  t.match(cleared, /^sid=;/, 'the cookie is emptied')
  t.match(cleared, /Expires=Thu, 01 Jan 1970/, 'and expired')
  t.match(cleared, /Path=\//)
  t.match(cleared, /HttpOnly/)
  t.match(cleared, /SameSite=Lax/)
  const anonymous = await app.inject({ method: 'GET', url: '/api/auth/me' })
  t.equal(anonymous.json().code, 'AUTH_REQUIRED', 'no cookie at all stays AUTH_REQUIRED')
  t.notOk(anonymous.headers['set-cookie'], 'and clears nothing')
})

t.test('Redis killed under load and restarted empty: no revoked session accepted, live ones survive, it heals', async t => {
  const redis = await startRedis(t)
  const app = await build(t, { ...ENV, REDIS_URL: redis.url, SESSION_CACHE_TTL: '0' })
  const sql = adminSql(t)
  const users: LoggedIn[] = []
  for (let i = 0; i < 6; i++) users.push(await register(app))
  // half of them revoked before the kill, by their own DELETE (Postgres first, then Redis)
  const revoked = users.slice(0, 3)
  const live = users.slice(3)
  for (const u of revoked) t.equal((await revoke(app, u, await sessionIdOf(app, u))).statusCode, 204)

  const counts = { revokedAccepted: 0, liveAccepted: 0, liveRefused: 0, unavailable: 0, requests: 0 }
  const running = { stop: false }
  const load = (async () => {
    for (let i = 0; !running.stop; i++) {
      const u = users[i % users.length]!
      const res = await me(app, u.cookie)
      counts.requests++
      if (res.statusCode === 503) counts.unavailable++
      else if (revoked.includes(u) && res.statusCode === 200) counts.revokedAccepted++
      else if (live.includes(u)) res.statusCode === 200 ? counts.liveAccepted++ : counts.liveRefused++
      if (i % 20 === 0) await delay(i % 3) // varied timing
    }
  })()
  await delay(300)
  await redis.kill()
  await delay(2500) // the outage: the breaker opens, Postgres answers
  const during = { ...counts }
  await redis.start() // empty
  await waitFor(async () => (await me(app, live[0]!.cookie)).statusCode === 200 && (await me(app, live[1]!.cookie)).statusCode === 200,
    { timeoutMs: 10_000, what: 'the live sessions answered after the empty restart' })
  await delay(500)
  running.stop = true
  await load

  t.equal(counts.revokedAccepted, 0, `0 of the requests with a revoked session accepted (${counts.requests} requests in all)`)
  t.equal(counts.liveRefused, 0, 'no live session refused across the kill and the empty restart')
  t.ok(during.liveAccepted > 0, `live sessions answered from Postgres during the outage (${during.liveAccepted} before the restart)`)
  t.ok(counts.unavailable <= 6, `at most a few requests waited out the breaker (${counts.unavailable} answered 503)`)
  // the sentinel check runs every second and on reconnect; a check that met the half-open breaker is retried
  await waitFor(() => app.sessionRestorer.losses > 0, { timeoutMs: 10_000, what: 'the data loss noticed' })
  await app.sessionRestorer.check() // the repair it started has finished
  t.equal(app.sessionRestorer.losses, 1, 'the data loss was noticed once')
  for (const u of live) t.equal((await me(app, u.cookie)).statusCode, 200, 'a live session works after the restart')
  for (const u of revoked) t.equal((await me(app, u.cookie)).statusCode, 401, 'a revoked one is still refused')
  // healed without a restart: the restored sessions are in Redis again, the revoked ones are not
  const keys = redis.cli('--scan', '--pattern', `${app.config.redis.keyPrefix}*:s:*`).split('\n').filter(Boolean)
  const hashes = await sql<{ key_hash: string; revoked: boolean }[]>`
    select key_hash, revoked_at is not null as revoked from user_sessions where user_id = any(${users.map(u => u.userId)}::uuid[])`
  for (const h of hashes) t.equal(keys.some(k => k.endsWith(':s:' + h.key_hash)), !h.revoked, `Redis holds the session iff Postgres holds it live (revoked: ${h.revoked})`)
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: 'http://localhost:3000' }, payload: { email: live[0]!.email, password: live[0]!.password } })
  t.equal(login.statusCode, 200, 'logins work again')
})

t.test('a revocation during a Redis stall: durable and audited, refused during and after, a retry is no 404', async t => {
  const redis = await startRedis(t)
  const app = await build(t, { ...ENV, REDIS_URL: redis.url, SESSION_CACHE_TTL: '0' })
  const sql = adminSql(t)
  const u = await register(app)
  const other = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: 'http://localhost:3000' }, payload: { email: u.email, password: u.password } })
  const otherCookie = `sid=${[other.headers['set-cookie']].flat().find(c => c?.startsWith('sid='))!.slice(4).split(';')[0]}`
  const target = (await me(app, otherCookie)).json().auth.sessionId as string

  redis.pause()
  t.teardown(() => redis.resume())
  const res = await revoke(app, u, target)
  t.equal(res.statusCode, 503, 'Redis could not confirm the revocation')
  t.equal(res.json().code, 'REVOCATION_UNCONFIRMED')
  const [row] = await sql<{ revoked_at: Date | null; revoked_reason: string }[]>`select revoked_at, revoked_reason from user_sessions where public_id = ${target}`
  t.ok(row?.revoked_at, 'Postgres holds the revocation')
  t.equal(row?.revoked_reason, 'revoked')
  await waitFor(async () => (await sql`select 1 from audit_logs where type = 'SESSION_REVOKED' and session_public_id = ${target}`).length === 1,
    { what: 'the SESSION_REVOKED audit row' })
  t.pass('one SESSION_REVOKED audit row')
  t.equal((await me(app, otherCookie)).statusCode, 401, 'the revoked session is refused during the stall (Postgres answers)')
  t.equal((await me(app, u.cookie)).statusCode, 200, 'the caller\'s own session still works during the stall')

  redis.resume()
  await delay(2500) // the stalled commands time out, the breaker probes and closes
  for (let i = 0; i < 20; i++) t.equal((await me(app, otherCookie)).statusCode, 401, 'refused after Redis woke')
  const retry = await revoke(app, u, target)
  t.equal(retry.statusCode, 204, 'a retry is a success, not a confusing 404')
  t.equal((await sql`select 1 from audit_logs where type = 'SESSION_REVOKED' and session_public_id = ${target}`).length, 1, 'and writes no second audit row')
})

t.test('FLUSHALL publishes nothing: the sentinel notices, the near cache is emptied and the sessions restored', async t => {
  const redis = await startRedis(t)
  const app = await build(t, { ...ENV, REDIS_URL: redis.url, SESSION_CACHE_TTL: '60s' })
  const u = await register(app)
  t.equal((await me(app, u.cookie)).statusCode, 200)
  const keyPattern = `${app.config.redis.keyPrefix}*:s:*`
  t.equal(redis.cli('--scan', '--pattern', keyPattern).split('\n').filter(Boolean).length, 1)
  // a session revoked in Postgres only (as if its Redis step had been lost): the restore must not bring it back
  const v = await register(app)
  t.equal((await me(app, v.cookie)).statusCode, 200, 'in the near cache now')
  const sql = adminSql(t)
  await sql`update user_sessions set revoked_at = now(), revoked_reason = 'test' where user_id = ${v.userId}`
  t.equal(redis.cli('flushall'), 'OK') // the private redis-server this test started, never the shared one
  // the repair pass puts back every live row of the (shared) test database: look for these two
  const hashOf = async (x: LoggedIn): Promise<string> => (await sql<{ key_hash: string }[]>`select key_hash from user_sessions where user_id = ${x.userId}`)[0]!.key_hash
  const uHash = await hashOf(u)
  const vHash = await hashOf(v)
  const inRedis = (hash: string): boolean => redis.cli('--scan', '--pattern', keyPattern).split('\n').some(k => k.endsWith(':s:' + hash))
  await waitFor(() => inRedis(uHash), { what: 'the live session restored' })
  t.equal(app.sessionRestorer.losses, 1, 'the flush was noticed')
  t.notOk(inRedis(vHash), 'the session revoked in Postgres is not restored')
  t.equal((await me(app, u.cookie)).statusCode, 200, 'the user is still signed in')
  t.equal((await me(app, v.cookie)).statusCode, 401, 'the cache was emptied: the revoked one is not served from it')
})
