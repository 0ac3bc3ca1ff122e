// Refresh rotation, the race window, reuse as theft, legacy logout and the deny list.
import t from 'tap'
import type { Redis } from 'ioredis'
import { createHash } from 'node:crypto'
import { build, adminSql, uniquePrefix, waitFor, delay, deleteRedisPrefix } from './helper.js'
import { register } from './auth-helper.js'
import { bearer, legacyLogin, refresh } from './legacy-helper.js'

const LEGACY = { NEW_AUTH_PERCENTAGE: '0' }

t.test('login at 0% gives legacy tokens; refresh rotates them', async t => {
  const app = await build(t, LEGACY)
  const sql = adminSql(t)
  const user = await register(app)
  t.equal(user.token, '', 'registration at 0% sets no session cookie')
  const first = await legacyLogin(app, user.email)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(first.accessToken) })).statusCode, 200)

  const res = await refresh(app, first.refreshToken)
  t.equal(res.statusCode, 200)
  const next = res.json().auth
  t.equal(next.mode, 'legacy')
  t.not(next.refreshToken, first.refreshToken)
  t.equal(next.expiresIn, 900)

  const rows = await sql`select revoked_reason, replaced_by is not null as replaced, token_hash from refresh_tokens where user_id = ${user.userId} order by created_at`
  t.equal(rows.length, 3, 'register, login, rotation')
  t.same(rows.slice(1).map(r => [r.revoked_reason, r.replaced]), [['rotated', true], [null, false]])
  // the login's row holds SHA-256 of the token the client got, never the token itself
  t.same(rows.map(r => (r.token_hash as Buffer).length), [32, 32, 32], 'only a SHA-256 is stored')
  t.same(rows[1]!.token_hash, createHash('sha256').update(first.refreshToken).digest())
  t.same(rows[2]!.token_hash, createHash('sha256').update(next.refreshToken).digest())
})

t.test('20 concurrent refreshes with one token: exactly one 200, the rest 409, nothing revoked', async t => {
  const app = await build(t, LEGACY)
  const sql = adminSql(t)
  const user = await register(app)
  const login = await legacyLogin(app, user.email)
  const results = await Promise.all(Array.from({ length: 20 }, () => refresh(app, login.refreshToken)))
  const codes = results.map(r => r.statusCode)
  t.equal(codes.filter(c => c === 200).length, 1, codes.join(','))
  t.equal(codes.filter(c => c === 409).length, 19)
  t.equal(results.find(r => r.statusCode === 409)!.json().code, 'AUTH_REFRESH_RACE')
  const winner = results.find(r => r.statusCode === 200)!.json().auth
  t.equal((await refresh(app, winner.refreshToken)).statusCode, 200, 'the family lives on')
  const revoked = await sql`select count(*)::int as n from refresh_tokens where user_id = ${user.userId} and revoked_reason = 'reuse_detected'`
  t.equal(revoked[0]!.n, 0)
})

t.test('reuse after the grace window revokes the family, deny-lists its access tokens, audits', async t => {
  const app = await build(t, { ...LEGACY, REFRESH_REUSE_GRACE: '1' })
  const sql = adminSql(t)
  const user = await register(app)
  const login = await legacyLogin(app, user.email)
  const rotated = (await refresh(app, login.refreshToken)).json().auth
  await delay(1200) // past the 1 s grace window
  const replay = await refresh(app, login.refreshToken)
  t.equal(replay.statusCode, 401)
  t.equal(replay.json().code, 'AUTH_REFRESH_REUSED')

  t.equal((await refresh(app, rotated.refreshToken)).statusCode, 401, 'the thief\'s and the owner\'s newest token are both dead')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(rotated.accessToken) })).statusCode, 401, 'live access tokens deny-listed')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(login.accessToken) })).statusCode, 401)
  await app.audit.flush()
  const audit = await sql`select details from audit_logs where type = 'TOKEN_REUSE_ATTACK' and user_id = ${user.userId}`
  t.equal(audit.length, 1)
  t.ok((audit[0]!.details as { accessTokensDenied: number }).accessTokensDenied >= 2)
  const live = await sql`select count(*)::int as n from refresh_tokens where user_id = ${user.userId} and revoked_at is null and family_id = (select family_id from refresh_tokens where user_id = ${user.userId} and parent_id is not null limit 1)`
  t.equal(live[0]!.n, 0, 'no live token left in the family')
})

t.test('an unknown, malformed or expired refresh token is 401 AUTH_REFRESH_INVALID', async t => {
  const app = await build(t, LEGACY)
  const sql = adminSql(t)
  const user = await register(app)
  const login = await legacyLogin(app, user.email)
  for (const token of ['x', 'A'.repeat(43), "' or 1=1 --"]) {
    const res = await refresh(app, token)
    t.equal(res.statusCode, 401)
    t.equal(res.json().code, 'AUTH_REFRESH_INVALID')
  }
  await sql`update refresh_tokens set expires_at = now() - interval '1 second' where user_id = ${user.userId}`
  t.equal((await refresh(app, login.refreshToken)).json().code, 'AUTH_REFRESH_INVALID')
})

t.test('legacy logout: the access token and its refresh family end at once', async t => {
  const app = await build(t, LEGACY)
  const sql = adminSql(t)
  const user = await register(app)
  const login = await legacyLogin(app, user.email)
  const other = await legacyLogin(app, user.email)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(login.accessToken) })
  t.equal(res.statusCode, 204)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(login.accessToken) })).statusCode, 401)
  t.equal((await refresh(app, login.refreshToken)).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(other.accessToken) })).statusCode, 200, 'another device stays logged in')
  const [denied] = await sql`select expires_at > now() as live from jwt_deny_list where user_id = ${user.userId}`
  t.equal(denied?.live, true, 'durably deny-listed in Postgres')
})

t.test('the deny list survives Redis losing its data', async t => {
  // the loss is simulated by deleting every key of this app's own prefix (marker included),
  // so no other test or server sharing this Redis is disturbed
  const env = { ...LEGACY, REDIS_KEY_PREFIX: uniquePrefix() }
  const app = await build(t, env)
  const user = await register(app)
  const login = await legacyLogin(app, user.email)
  await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(login.accessToken) })
  const redis = app.redis as Redis
  await deleteRedisPrefix(app.config)
  const res = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(login.accessToken) })
  t.equal(res.statusCode, 401, 'still refused right after the flush (answered from Postgres)')
  t.ok(await waitFor(() => redis.get(`${app.config.redis.keyPrefix}{deny}:loaded`), { what: 'the deny list rebuilt' }), 'the list was rebuilt into Redis')
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(login.accessToken) })).statusCode, 401)

  const restarted = await build(t, env)
  t.equal((await restarted.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(login.accessToken) })).statusCode, 401, 'and after a restart')
})
