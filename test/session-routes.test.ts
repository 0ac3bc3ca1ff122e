// A person's devices: list, revoke one, revoke others, logout-all, password change.
import t from 'tap'
import { build, adminSql, uniquePrefix, waitFor } from './helper.js'
import { bearer, legacyLogin } from './legacy-helper.js'
import { browser, login, me, register, PASSWORD, UA_CHROME } from './auth-helper.js'

t.test('the list shows public handles, marks the current one, and holds no secret', async t => {
  const app = await build(t)
  const a = await register(app)
  await login(app, a.email, PASSWORD, { 'user-agent': UA_CHROME })
  const res = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(a.cookie) })
  t.equal(res.statusCode, 200)
  const { sessions } = res.json()
  t.equal(sessions.length, 2)
  t.equal(sessions.filter((s: { current: boolean }) => s.current).length, 1)
  t.notOk(res.body.includes(a.token.split('.')[1]!), 'no secret in the list')
  const chrome = sessions.find((s: { current: boolean }) => !s.current)
  t.same(chrome.device, { browser: 'Chrome', os: 'Windows', type: 'desktop' })
  t.match(chrome, { id: /^[A-Za-z0-9_-]{22}$/, ip: '127.0.0.1', createdAt: String, lastSeenAt: String, expiresAt: String })
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/sessions' })).statusCode, 401)
})

t.test('another user\'s session id is a 404 and their session survives', async t => {
  const app = await build(t)
  const a = await register(app)
  const b = await register(app)
  const bId = (await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(b.cookie) })).json().sessions[0].id
  const res = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${bId}`, headers: browser(a.cookie) })
  t.equal(res.statusCode, 404)
  t.equal(res.json().code, 'NOT_FOUND')
  t.equal((await me(app, b.cookie)).statusCode, 200)
  const unknown = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${'x'.repeat(22)}`, headers: browser(a.cookie) })
  t.equal(unknown.statusCode, 404)
  const malformed = await app.inject({ method: 'DELETE', url: '/api/auth/sessions/..%2F..%2Fetc', headers: browser(a.cookie) })
  t.equal(malformed.statusCode, 400)
})

t.test('revoking others keeps the current session; logout-all ends every one', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const a = await register(app)
  const others = [await login(app, a.email), await login(app, a.email)]
  const res = await app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: browser(a.cookie) })
  t.same(res.json(), { revoked: 2 })
  t.equal((await me(app, a.cookie)).statusCode, 200)
  for (const o of others) t.equal((await me(app, o.cookie)).statusCode, 401)

  const again = await login(app, a.email)
  const all = await app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: browser(again.cookie) })
  t.same(all.json(), { revoked: 2 })
  t.equal((await me(app, a.cookie)).statusCode, 401)
  t.equal((await me(app, again.cookie)).statusCode, 401)

  // the mirror writes off the request path: poll until every ending has landed, then compare
  await app.sessionMirror.flush()
  const reasons = async () => (await sql`select revoked_reason from user_sessions where user_id = ${a.userId} order by created_at`).map(r => r.revoked_reason)
  const mirrored = await waitFor(async () => { const r = await reasons(); return r.length === 4 && r.every(Boolean) && r }, { what: 'four mirrored endings' }).catch(() => reasons())
  t.same(mirrored, ['logout_all', 'revoked_others', 'revoked_others', 'logout_all'], 'the Postgres mirror records each ending')
})

t.test('a password change ends every other session and swaps the password', async t => {
  const app = await build(t)
  const a = await register(app)
  const other = await login(app, a.email)
  const newPassword = 'a brand new passphrase 77'
  const wrong = await app.inject({ method: 'POST', url: '/api/auth/password', headers: browser(a.cookie), payload: { currentPassword: 'nope nope nope', newPassword } })
  t.equal(wrong.statusCode, 401)
  t.equal((await me(app, other.cookie)).statusCode, 200, 'a failed change ends nothing')

  const res = await app.inject({ method: 'POST', url: '/api/auth/password', headers: browser(a.cookie), payload: { currentPassword: PASSWORD, newPassword } })
  t.same(res.json(), { revoked: 1 })
  t.equal((await me(app, a.cookie)).statusCode, 200, 'the current session stays')
  t.equal((await me(app, other.cookie)).statusCode, 401)
  t.equal((await login(app, a.email, PASSWORD)).res.statusCode, 401)
  t.equal((await login(app, a.email, newPassword)).res.statusCode, 200)
})

t.test('a legacy client sees and ends sessions too; none is "current" and no cookie is touched', async t => {
  const prefix = uniquePrefix()
  const app = await build(t, { REDIS_KEY_PREFIX: prefix })
  const legacyApp = await build(t, { REDIS_KEY_PREFIX: prefix, NEW_AUTH_PERCENTAGE: '0' })
  const a = await register(app)
  const other = await login(app, a.email)
  const mobile = await legacyLogin(legacyApp, a.email)

  const list = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: bearer(mobile.accessToken) })
  t.equal(list.statusCode, 200)
  const sessions: { id: string; current: boolean }[] = list.json().sessions
  t.equal(sessions.length, 2)
  t.same(sessions.map(s => s.current), [false, false], 'a Bearer token has no current session')

  const one = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${sessions[0]!.id}`, headers: bearer(mobile.accessToken) })
  t.equal(one.statusCode, 204)
  t.equal(one.headers['set-cookie'], undefined, 'no cookie cleared for a Bearer caller')
  const rest = await app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: bearer(mobile.accessToken) })
  t.same(rest.json(), { revoked: 1 }, 'with no current session to keep, every remaining one ends')
  t.equal((await me(app, a.cookie)).statusCode, 401)
  t.equal((await me(app, other.cookie)).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(mobile.accessToken) })).statusCode, 200, 'the legacy token itself lives on')
})

t.test('ending the current session by its id clears the cookie', async t => {
  const app = await build(t)
  const a = await register(app)
  const [current] = (await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(a.cookie) })).json().sessions
  const res = await app.inject({ method: 'DELETE', url: `/api/auth/sessions/${current.id}`, headers: browser(a.cookie) })
  t.equal(res.statusCode, 204)
  t.match(String(res.headers['set-cookie']), /^sid=;.*Expires=Thu, 01 Jan 1970/)
  t.equal((await me(app, a.cookie)).statusCode, 401)
})
