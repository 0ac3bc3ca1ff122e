// The admin surface: guarded, audited, and disabling really ends access.
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, adminSql } from './helper.js'
import { browser, login, me, register } from './auth-helper.js'

async function makeAdmin (t: Test, app: FastifyInstance) {
  const sql = adminSql(t)
  const admin = await register(app)
  await sql`update users set role = 'admin' where id = ${admin.userId}`
  return login(app, admin.email) // the role is read at login
}

t.test('admin routes: 401 anonymous, 403 for a plain user', async t => {
  const app = await build(t)
  const user = await register(app)
  for (const [method, url] of [['GET', `/api/admin/users/${user.userId}/sessions`], ['GET', '/api/admin/stats'], ['GET', '/api/admin/audit'], ['POST', `/api/admin/users/${user.userId}/disable`]] as const) {
    t.equal((await app.inject({ method, url })).statusCode, 401, `${method} ${url} anonymous`)
    const res = await app.inject({ method, url, headers: browser(user.cookie) })
    t.equal(res.statusCode, 403, `${method} ${url} as a user`)
    t.equal(res.json().code, 'AUTH_FORBIDDEN')
  }
})

t.test('list and bulk-revoke a user\'s sessions, audited', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  await login(app, user.email)
  const list = await app.inject({ method: 'GET', url: `/api/admin/users/${user.userId}/sessions`, headers: browser(admin.cookie) })
  t.equal(list.statusCode, 200)
  t.equal(list.json().sessions.length, 2)
  const revoke = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.userId}/sessions`, headers: browser(admin.cookie) })
  t.same(revoke.json(), { revoked: 2 })
  t.equal((await me(app, user.cookie)).statusCode, 401)
  await app.audit.flush()
  const rows = await sql`select details from audit_logs where type = 'ADMIN_SESSIONS_REVOKED' and user_id = ${user.userId}`
  t.equal(rows.length, 1)
  t.match(rows[0]!.details, { adminId: admin.userId, revoked: 2 })
  const missing = await app.inject({ method: 'GET', url: '/api/admin/users/00000000-0000-4000-8000-000000000000/sessions', headers: browser(admin.cookie) })
  t.equal(missing.statusCode, 404)
  const bad = await app.inject({ method: 'GET', url: '/api/admin/users/not-a-uuid/sessions', headers: browser(admin.cookie) })
  t.equal(bad.statusCode, 400)
})

t.test('disable ends every session at once and refuses logins until enabled', async t => {
  const app = await build(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  const res = await app.inject({ method: 'POST', url: `/api/admin/users/${user.userId}/disable`, headers: browser(admin.cookie) })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { user: { id: user.userId, disabled: true }, revoked: 1 })
  t.equal((await me(app, user.cookie)).statusCode, 401)
  t.equal((await login(app, user.email)).res.statusCode, 403)
  const enable = await app.inject({ method: 'POST', url: `/api/admin/users/${user.userId}/enable`, headers: browser(admin.cookie) })
  t.match(enable.json(), { user: { disabled: false } })
  t.equal((await login(app, user.email)).res.statusCode, 200)
})

t.test('stats count active sessions by device type; the audit query filters', async t => {
  const app = await build(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  await app.sessionMirror.flush()
  const stats = await app.inject({ method: 'GET', url: '/api/admin/stats', headers: browser(admin.cookie) })
  t.equal(stats.statusCode, 200)
  t.ok(stats.json().activeSessions >= 2)
  t.ok(stats.json().byDeviceType.desktop >= 2)

  await login(app, user.email, 'wrong wrong wrong')
  await app.audit.flush()
  const audit = await app.inject({ method: 'GET', url: `/api/admin/audit?userId=${user.userId}&type=LOGIN_FAILURE&limit=5`, headers: browser(admin.cookie) })
  t.equal(audit.statusCode, 200)
  const entries = audit.json().entries
  t.equal(entries.length, 1)
  t.match(entries[0], { type: 'LOGIN_FAILURE', userId: user.userId, ip: '127.0.0.1', details: { reason: 'bad_password' } })
  const badLimit = await app.inject({ method: 'GET', url: '/api/admin/audit?limit=100000', headers: browser(admin.cookie) })
  t.equal(badLimit.statusCode, 400)
})
