// The operator page's API additions: find a user by email (audited, found or not), end one
// session of a user, and the audit log's time range.
import t from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, adminSql } from './helper.js'
import { browser, login, me, register } from './auth-helper.js'

async function makeAdmin (t: Test, app: FastifyInstance) {
  const sql = adminSql(t)
  const admin = await register(app)
  await sql`update users set role = 'admin' where id = ${admin.userId}`
  return login(app, admin.email)
}

t.test('GET /api/admin/users?email= finds one user in any case; a miss is a 404; both are audited', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  const res = await app.inject({ url: `/api/admin/users?email=${encodeURIComponent(user.email.toUpperCase())}`, headers: browser(admin.cookie) })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { user: { id: user.userId, email: user.email, role: 'user', disabled: false } })

  const miss = await app.inject({ url: '/api/admin/users?email=nobody-here%40example.test', headers: browser(admin.cookie) })
  t.equal(miss.statusCode, 404)
  t.equal(miss.json().code, 'NOT_FOUND')

  await app.audit.flush()
  const rows = await sql<{ userId: string | null, details: Record<string, unknown> }[]>`
    select user_id as "userId", details from audit_logs
    where type = 'ADMIN_READ' and details->>'read' = 'user_by_email' and details->>'adminId' = ${admin.userId}
    order by created_at`
  t.equal(rows.length, 2, 'the hit and the miss are both audited')
  t.equal(rows[0]?.userId, user.userId, 'the hit names the user found')
  t.equal(rows[1]?.userId, null)
  t.equal(rows[1]?.details.email, 'nobody-here@example.test', 'the miss records the address searched for')
})

t.test('GET /api/admin/users refuses bad input with house codes and non-admins with 401/403', async t => {
  const app = await build(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  for (const q of ['', '?email=', '?email=not-an-email', '?email=' + 'a'.repeat(300) + '%40b.c']) {
    const res = await app.inject({ url: '/api/admin/users' + q, headers: browser(admin.cookie) })
    t.equal(res.statusCode, 400, `"${q.slice(0, 30)}" is a 400`)
    t.equal(res.json().code, 'VALIDATION_FAILED')
  }
  t.equal((await app.inject({ url: `/api/admin/users?email=${encodeURIComponent(user.email)}` })).statusCode, 401)
  const plain = await app.inject({ url: `/api/admin/users?email=${encodeURIComponent(user.email)}`, headers: browser(user.cookie) })
  t.equal(plain.statusCode, 403)
  t.equal(plain.json().code, 'AUTH_FORBIDDEN')
})

t.test('DELETE /api/admin/users/:id/sessions/:sessionId ends that session only; another user\'s session is a 404', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  const second = await login(app, user.email)
  const other = await register(app)
  const list = (await app.inject({ url: `/api/admin/users/${user.userId}/sessions`, headers: browser(admin.cookie) })).json() as { sessions: Array<{ id: string }> }
  t.equal(list.sessions.length, 2)
  const mine = (await app.inject({ url: '/api/auth/me', headers: browser(second.cookie) })).json() as { auth: { sessionId: string } }
  const target = mine.auth.sessionId

  const otherSessions = (await app.inject({ url: `/api/admin/users/${other.userId}/sessions`, headers: browser(admin.cookie) })).json() as { sessions: Array<{ id: string }> }
  const wrongOwner = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.userId}/sessions/${otherSessions.sessions[0]?.id}`, headers: browser(admin.cookie) })
  t.equal(wrongOwner.statusCode, 404, 'a session of someone else under this user is not found')
  t.equal(wrongOwner.json().code, 'NOT_FOUND')
  t.equal((await me(app, other.cookie)).statusCode, 200, 'and it was not touched')

  const res = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.userId}/sessions/${target}`, headers: browser(admin.cookie) })
  t.equal(res.statusCode, 204)
  t.equal((await me(app, second.cookie)).statusCode, 401, 'that session ended')
  t.equal((await me(app, user.cookie)).statusCode, 200, 'the user\'s other session lives on')
  const again = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.userId}/sessions/${target}`, headers: browser(admin.cookie) })
  t.equal(again.statusCode, 204, 'a retry of an ended session answers as a success (it may follow a 503 whose revocation already held)')
  const bad = await app.inject({ method: 'DELETE', url: `/api/admin/users/${user.userId}/sessions/short`, headers: browser(admin.cookie) })
  t.equal(bad.statusCode, 400)

  await app.audit.flush()
  const rows = await sql<{ details: Record<string, unknown> }[]>`select details from audit_logs where type = 'ADMIN_SESSIONS_REVOKED' and user_id = ${user.userId}`
  t.equal(rows.length, 1)
  t.match(rows[0]?.details, { adminId: admin.userId, scope: 'one', session: target, revoked: 1 })
})

t.test('GET /api/admin/audit filters by a time range', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  await sql`insert into audit_logs (type, user_id, details, created_at) values
    ('SESSION_ANOMALY', ${user.userId}, '{"n":1}'::jsonb, '2020-01-01T10:00:00Z'),
    ('SESSION_ANOMALY', ${user.userId}, '{"n":2}'::jsonb, '2020-01-02T10:00:00Z'),
    ('SESSION_ANOMALY', ${user.userId}, '{"n":3}'::jsonb, '2020-01-03T10:00:00Z')`
  const q = `userId=${user.userId}&type=SESSION_ANOMALY&from=2020-01-02T00:00:00Z&to=2020-01-03T10:00:00Z`
  const res = await app.inject({ url: `/api/admin/audit?${q}`, headers: browser(admin.cookie) })
  t.equal(res.statusCode, 200)
  t.same(res.json().entries.map((e: { details: { n: number } }) => e.details.n), [2], 'from is inclusive, to exclusive')
  const bad = await app.inject({ url: '/api/admin/audit?from=yesterday', headers: browser(admin.cookie) })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'VALIDATION_FAILED')
})
