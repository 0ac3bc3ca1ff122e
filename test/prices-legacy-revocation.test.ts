// Every way a legacy client's credentials end, done for real on instance A, closes the legacy
// socket held on instance B with 4401 within 1 s: the revoking routes publish the user-wide or
// per-token message, and the feed closes on it, without waiting for the 60 s sweep. A role
// change ends a browser session's socket the same way.
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { adminSql } from './helper.js'
import { register, login, browser, PASSWORD, type LoggedIn } from './auth-helper.js'
import { legacyLogin, bearer } from './legacy-helper.js'
import { twoInstances, connect, browserSocket, closeAll, sleep, type FeedSocket } from './ws-helper.js'

const LIMIT_MS = 1000

interface LegacyWay {
  name: string
  /** `admin` is an admin's access token: at 0 % everyone, the admin too, is on legacy tokens */
  end: (ctx: { a: FastifyInstance; victim: LoggedIn; access: string; admin: string }) => Promise<LightMyRequestResponse>
}

const ways: LegacyWay[] = [
  { name: 'legacy logout', end: ({ a, access }) => a.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(access) }) },
  { name: 'legacy logout-all', end: ({ a, access }) => a.inject({ method: 'POST', url: '/api/auth/logout-all', headers: bearer(access) }) },
  {
    name: 'password change',
    end: ({ a, access }) => a.inject({ method: 'POST', url: '/api/auth/password', headers: bearer(access), payload: { currentPassword: PASSWORD, newPassword: 'another fresh passphrase 5521' } })
  },
  { name: 'admin disable', end: ({ a, victim, admin }) => a.inject({ method: 'POST', url: `/api/admin/users/${victim.userId}/disable`, headers: bearer(admin) }) },
  { name: 'admin revoke-all', end: ({ a, victim, admin }) => a.inject({ method: 'DELETE', url: `/api/admin/users/${victim.userId}/sessions`, headers: bearer(admin) }) },
  { name: 'role change', end: ({ a, victim, admin }) => a.inject({ method: 'POST', url: `/api/admin/users/${victim.userId}/role`, headers: bearer(admin), payload: { role: 'admin' } }) }
]

async function legacySocket (url: string, access: string): Promise<FeedSocket> {
  const s = connect(url, bearer(access)) // a mobile app: its Bearer header, no cookie, no Origin
  const opened = await s.opened
  if (!opened.open) throw new Error(`refused: ${opened.status}`)
  await s.next(f => f.type === 'ready')
  return s
}

t.test('legacy sockets close on B within 1 s for every way A ends the credentials', async t => {
  const { a, urlB } = await twoInstances(t, { NEW_AUTH_PERCENTAGE: '0' })
  const sql = adminSql(t)
  const adminUser = await register(a)
  await sql`update users set role = 'admin' where id = ${adminUser.userId}`
  const admin = (await legacyLogin(a, adminUser.email)).accessToken

  for (const way of ways) {
    const victim = await register(a)
    const { accessToken } = await legacyLogin(a, victim.email)
    const onB = await legacySocket(urlB, accessToken)
    const res = await way.end({ a, victim, access: accessToken, admin })
    const answeredAt = Date.now()
    t.ok(res.statusCode < 300, `${way.name}: answered ${res.statusCode}`)
    const closed = await Promise.race([onB.closed, sleep(3000).then(() => null)])
    t.equal(closed?.code, 4401, `${way.name}: the legacy socket closed 4401`)
    t.ok((closed?.at ?? Infinity) - answeredAt < LIMIT_MS, `${way.name}: closed ${(closed?.at ?? Infinity) - answeredAt} ms after the answer`)
    await closeAll([onB])
  }
})

t.test('a role change closes the user\'s browser socket on the other instance', async t => {
  const { a, urlB } = await twoInstances(t)
  const sql = adminSql(t)
  const adminUser = await register(a)
  await sql`update users set role = 'admin' where id = ${adminUser.userId}`
  const admin = await login(a, adminUser.email)
  const victim = await register(a)
  const onB = await browserSocket(urlB, victim.cookie)
  const res = await a.inject({ method: 'POST', url: `/api/admin/users/${victim.userId}/role`, headers: browser(admin.cookie), payload: { role: 'admin' } })
  const answeredAt = Date.now()
  t.equal(res.statusCode, 200)
  const closed = await Promise.race([onB.closed, sleep(3000).then(() => null)])
  t.equal(closed?.code, 4401, 'closed 4401')
  t.ok((closed?.at ?? Infinity) - answeredAt < LIMIT_MS, `closed ${(closed?.at ?? Infinity) - answeredAt} ms after the answer`)
  // the old cookie is refused too: the role it carried is stale
  const me = await a.inject({ method: 'GET', url: '/api/auth/me', headers: browser(victim.cookie) })
  t.equal(me.statusCode, 401)
})
