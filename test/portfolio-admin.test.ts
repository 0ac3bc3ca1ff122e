// GET /api/admin/users/:id/portfolios: admins read any user's portfolios under the admin read
// policy, every read is audited, and nobody else gets past the guard.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { AuditEvent } from '../src/audit/audit-log.js'
import { adminSql } from './helper.js'
import { UA_FIREFOX } from './auth-helper.js'
import { buildWithPortfolio, client, createPortfolio, expectJson, makeUser, makeUsers } from './portfolio-helper.js'

t.test('an admin reads a user\'s portfolios page by page, and each read is audited', async t => {
  const app = await buildWithPortfolio(t)
  const admin = await makeUser(t, app, { role: 'admin', tag: 'pf-admin' })
  const [target, bystander] = await makeUsers(t, app, 2)
  const tc = client(app, target!)
  const made = []
  for (let i = 0; i < 5; i++) made.push(await createPortfolio(tc, `target ${i}`))
  await createPortfolio(client(app, bystander!), 'bystander')

  const audited: AuditEvent[] = []
  const record = app.audit.record
  app.audit.record = event => { audited.push(event); record(event) }

  const a = client(app, admin)
  const first = expectJson(await a.get(`/api/admin/users/${target!.userId}/portfolios?limit=3`), 200)
  t.same(first.items.map((p: { id: string }) => p.id), made.slice(0, 3).map(p => p.id))
  const second = expectJson(await a.get(`/api/admin/users/${target!.userId}/portfolios?limit=3&cursor=${first.nextCursor}`), 200)
  t.same(second.items.map((p: { id: string }) => p.id), made.slice(3).map(p => p.id))
  t.equal(second.nextCursor, null)

  const reads = audited.filter(e => e.type === 'ADMIN_PORTFOLIOS_READ')
  t.equal(reads.length, 2, 'one audit event per read')
  t.match(reads[0], { type: 'ADMIN_PORTFOLIOS_READ', userId: target!.userId, details: { adminId: admin.userId }, userAgent: UA_FIREFOX })
  t.type(reads[0]!.ip, 'string')

  // and the rows land in audit_logs
  await app.audit.flush()
  const sql = adminSql(t)
  const rows = await sql`select user_id, details, user_agent from audit_logs where type = 'ADMIN_PORTFOLIOS_READ' and user_id = ${target!.userId}`
  t.same(rows, [0, 1].map(() => ({ user_id: target!.userId, details: { adminId: admin.userId }, user_agent: UA_FIREFOX })), 'two audit rows naming the admin')

  const empty = await makeUser(t, app)
  t.same(expectJson(await a.get(`/api/admin/users/${empty.userId}/portfolios`), 200), { items: [], nextCursor: null })

  // the admin policy reads; it never lets the admin write someone else's rows
  t.equal((await a.patch(`/api/portfolios/${made[0]!.id}`, { name: 'admin was here' })).statusCode, 404)
  t.equal(expectJson(await tc.get(`/api/portfolios/${made[0]!.id}`), 200).name, 'target 0')
})

t.test('only admins get in; unknown users are 404, malformed ids 400', async t => {
  const app = await buildWithPortfolio(t)
  const admin = await makeUser(t, app, { role: 'admin', tag: 'pf-admin' })
  const [user, target] = await makeUsers(t, app, 2)
  await createPortfolio(client(app, target!), 'secret')
  const audited: AuditEvent[] = []
  app.audit.record = event => { audited.push(event) }

  const asUser = await client(app, user!).get(`/api/admin/users/${target!.userId}/portfolios`)
  t.equal(asUser.statusCode, 403)
  t.notMatch(asUser.body, /secret/)
  const anonymous = await app.inject({ method: 'GET', url: `/api/admin/users/${target!.userId}/portfolios` })
  t.equal(anonymous.statusCode, 401)

  const a = client(app, admin)
  const unknown = await a.get(`/api/admin/users/${randomUUID()}/portfolios`)
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().code, 'NOT_FOUND')
  for (const id of ['nope', `urn:uuid:${target!.userId}`, "' or 1=1 --"]) {
    t.equal((await a.get(`/api/admin/users/${encodeURIComponent(id)}/portfolios`)).statusCode, 400, id)
  }
  t.equal((await a.get(`/api/admin/users/${target!.userId}/portfolios?cursor=bad!`)).statusCode, 400)
  t.same(audited.filter(e => e.type === 'ADMIN_PORTFOLIOS_READ'), [], 'refused reads are not audited as reads')
})
