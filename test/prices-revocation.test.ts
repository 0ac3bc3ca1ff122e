// Revocation reaches sockets: a session ended on instance A closes its socket held on
// instance B with 4401, in well under a second, for every way a session ends. The clock
// starts when A has answered (the revocation is committed); the close is seen on B's socket.
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { adminSql, build } from './helper.js'
import { register, login, browser, PASSWORD, type LoggedIn } from './auth-helper.js'
import { twoInstances, browserSocket, connect, closeAll, sleep, FEED_ENV, listening, type FeedSocket } from './ws-helper.js'
import { revocationChannel } from '../src/auth/revocations.js'

const LIMIT_MS = 1000

interface Way {
  name: string
  /** ends the victim's session (or all of the user's); returns A's answer */
  end: (ctx: { a: FastifyInstance; victim: LoggedIn; other: LoggedIn; admin: LoggedIn }) => Promise<LightMyRequestResponse | null>
}

const ways: Way[] = [
  { name: 'logout', end: ({ a, victim }) => a.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(victim.cookie) }) },
  {
    name: 'revoke one',
    end: async ({ a, victim, other }) => {
      const list = await a.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(other.cookie) })
      const mine = await a.inject({ method: 'GET', url: '/api/auth/me', headers: browser(victim.cookie) })
      const id = mine.json().auth.sessionId as string
      if (!list.json().sessions.some((s: { id?: string; publicId?: string }) => (s.id ?? s.publicId) === id)) throw new Error('victim not listed')
      return a.inject({ method: 'DELETE', url: `/api/auth/sessions/${id}`, headers: browser(other.cookie) })
    }
  },
  { name: 'revoke others', end: ({ a, other }) => a.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: browser(other.cookie) }) },
  { name: 'logout-all', end: ({ a, other }) => a.inject({ method: 'POST', url: '/api/auth/logout-all', headers: browser(other.cookie) }) },
  { name: 'admin revoke', end: ({ a, victim, admin }) => a.inject({ method: 'DELETE', url: `/api/admin/users/${victim.userId}/sessions`, headers: browser(admin.cookie) }) },
  { name: 'admin disable', end: ({ a, victim, admin }) => a.inject({ method: 'POST', url: `/api/admin/users/${victim.userId}/disable`, headers: browser(admin.cookie) }) },
  { name: 'password change', end: ({ a, other }) => a.inject({ method: 'POST', url: '/api/auth/password', headers: browser(other.cookie), payload: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase 9187' } }) },
  {
    name: 'credential version bump (user-wide message, as issue 14 publishes it)',
    end: async ({ a, victim }) => {
      await a.redis.publish(revocationChannel(a.config.redis.keyPrefix), JSON.stringify({ userId: victim.userId, reason: 'role_changed' }))
      return null
    }
  }
]

t.test('every way a session ends closes its socket on the other instance with 4401 within 1 s', async t => {
  const { a, urlB } = await twoInstances(t)
  const sql = adminSql(t)
  const adminUser = await register(a)
  await sql`update users set role = 'admin' where id = ${adminUser.userId}`
  const admin = await login(a, adminUser.email)
  const timings: Record<string, number> = {}

  for (const way of ways) {
    const victim = await register(a)
    const other = await login(a, victim.email)
    const onB = await browserSocket(urlB, victim.cookie)
    const bystander = await browserSocket(urlB, admin.cookie)
    const res = await way.end({ a, victim, other, admin })
    const answeredAt = Date.now()
    if (res) t.ok(res.statusCode < 300, `${way.name}: answered ${res.statusCode}`)
    const closed = await Promise.race([onB.closed, sleep(3000).then(() => null)])
    t.equal(closed?.code, 4401, `${way.name}: closed 4401`)
    const ms = (closed?.at ?? Infinity) - answeredAt
    timings[way.name] = ms
    t.ok(ms < LIMIT_MS, `${way.name}: closed ${ms} ms after the answer`)
    t.equal(b(bystander), 'open', `${way.name}: another user's socket stays open`)
    await closeAll([bystander])
  }
  t.comment(`revoke-to-close across instances (ms): ${JSON.stringify(timings)}`)
})

const b = (s: FeedSocket): string => (s.ws.readyState === s.ws.OPEN ? 'open' : 'closed')

t.test('eviction by the per-user session limit closes the evicted session\'s socket', async t => {
  const { a, urlB } = await twoInstances(t, { MAX_SESSIONS_PER_USER: '2' })
  const victim = await register(a)
  const onB = await browserSocket(urlB, victim.cookie)
  await login(a, victim.email)
  const newest = await login(a, victim.email) // the third: the first is evicted
  const answeredAt = Date.now()
  const closed = await Promise.race([onB.closed, sleep(3000).then(() => null)])
  t.equal(closed?.code, 4401)
  t.ok((closed?.at ?? Infinity) - answeredAt < LIMIT_MS, `closed ${(closed?.at ?? Infinity) - answeredAt} ms after the login`)
  const kept = await browserSocket(urlB, newest.cookie)
  t.equal(b(kept), 'open', 'the newest session still opens a socket')
  await closeAll([kept])
})

t.test('a session\'s socket closes at its expiry', async t => {
  const app = await build(t, { ...FEED_ENV, SESSION_IDLE_TIMEOUT: '2s', SESSION_ABSOLUTE_TIMEOUT: '2s', SESSION_TOUCH_INTERVAL: '0' })
  const url = await listening(app)
  const user = await register(app)
  const createdAt = Date.now()
  const s = await browserSocket(url, user.cookie)
  const closed = await s.closed
  t.equal(closed.code, 4401)
  const after = closed.at - createdAt
  t.ok(after >= 1900 && after < 3000, `closed ${after} ms after login (absolute timeout 2 s)`)
})

t.test('a dropped subscription is followed by a re-validation of every socket', async t => {
  const { a, b: instanceB, urlB } = await twoInstances(t)
  const victim = await register(a)
  const keeper = await register(a)
  const onB = await browserSocket(urlB, victim.cookie)
  const keep = await browserSocket(urlB, keeper.cookie)
  instanceB.priceFeed.subscriber.disconnect(false) // B hears nothing now
  await sleep(50)
  await a.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(victim.cookie) })
  await sleep(500)
  t.equal(b(onB), 'open', 'the revocation message was lost while B was not subscribed')
  const back = Date.now()
  await instanceB.priceFeed.subscriber.connect()
  const closed = await Promise.race([onB.closed, sleep(3000).then(() => null)])
  t.equal(closed?.code, 4401, 'closed once the subscription was back')
  t.ok((closed?.at ?? Infinity) - back < LIMIT_MS, `${(closed?.at ?? Infinity) - back} ms after reconnecting`)
  t.equal(b(keep), 'open', 'a valid socket survives the re-validation')
  await closeAll([keep])
})

t.test('the periodic sweep closes a revoked socket even with no subscription', async t => {
  const { a, b: instanceB, urlB } = await twoInstances(t, { WS_SWEEP_INTERVAL: '300ms' })
  const victim = await register(a)
  const onB = await browserSocket(urlB, victim.cookie)
  instanceB.priceFeed.subscriber.disconnect(false)
  await sleep(50)
  await a.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(victim.cookie) })
  const closed = await Promise.race([onB.closed, sleep(3000).then(() => null)])
  t.equal(closed?.code, 4401, 'the sweep found the session gone')
})

t.test('legacy sockets: the auth message, its timeout, a deny-listed token, expiry, re-auth, jti revocation', async t => {
  const { a, b: instanceB, urlB } = await twoInstances(t, { NEW_AUTH_PERCENTAGE: '0', JWT_ACCESS_TTL: '3s', WS_AUTH_TIMEOUT: '500ms' })
  const { legacyLogin } = await import('./legacy-helper.js')
  const user = await register(a)
  const tokens = await legacyLogin(a, user.email)
  const legacyHeaders = { authorization: 'Token pending' } // no cookie, no Origin: a mobile app

  const silent = connect(urlB, legacyHeaders)
  t.same(await silent.opened, { open: true }, 'an Authorization header lets the socket open')
  const timeout = await silent.closed
  t.equal(timeout.code, 4408, 'no auth message in time: 4408')

  const wrongFirst = connect(urlB, legacyHeaders)
  await wrongFirst.opened
  wrongFirst.send({ type: 'subscribe', symbols: ['AAPL'] })
  t.equal((await wrongFirst.closed).code, 4401, 'anything but auth first: 4401')

  const forged = connect(urlB, legacyHeaders)
  await forged.opened
  forged.send({ type: 'auth', token: tokens.accessToken.slice(0, -2) + 'xx' })
  t.equal((await forged.closed).code, 4401, 'a bad signature: 4401')

  const live = await legacyLogin(a, user.email) // its 3 s start now
  const s = connect(urlB, legacyHeaders)
  await s.opened
  s.send({ type: 'auth', token: live.accessToken })
  await s.next(f => f.type === 'ready')
  s.send({ type: 'subscribe', symbols: ['AAPL'] })
  await s.next(f => f.type === 'price')
  t.pass('an authenticated legacy socket gets prices')

  // a fresh token before expiry keeps it open past the first token's expiry
  await sleep(1000)
  const refreshed = await a.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: live.refreshToken } })
  const fresh = refreshed.json().auth.accessToken as string
  s.send({ type: 'auth', token: fresh })
  await s.next(f => f.type === 'ready' && s.frames.filter(x => x.type === 'ready').length === 2)
  // exp has whole seconds: wait for the first token's own expiry, not a fixed time, or a login
  // late in a second leaves the fresh token ending before a fixed wait does
  const expiresAt = (jwt: string): number => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()).exp * 1000
  t.ok(expiresAt(fresh) >= expiresAt(live.accessToken) + 1000, 'the fresh token ends at least a second later')
  await sleep(Math.max(0, expiresAt(live.accessToken) + 250 - Date.now()))
  t.equal(b(s), 'open', 'still open after the first token expired, thanks to the re-auth')
  const expired = await s.closed
  t.equal(expired.code, 4401, 'closed when the fresh token expired')

  // deny-listed: legacy logout puts the jti on the deny list
  const t2 = await legacyLogin(a, user.email)
  const out = await a.inject({ method: 'POST', url: '/api/auth/logout', headers: { authorization: `Bearer ${t2.accessToken}` } })
  t.equal(out.statusCode, 204)
  const denied = connect(urlB, legacyHeaders)
  await denied.opened
  denied.send({ type: 'auth', token: t2.accessToken })
  t.equal((await denied.closed).code, 4401, 'a deny-listed token: 4401')

  // a Bearer header at the upgrade authenticates at once; a jti message closes it
  const t3 = await legacyLogin(a, user.email)
  const viaHeader = connect(urlB, { authorization: `Bearer ${t3.accessToken}` })
  await viaHeader.next(f => f.type === 'ready')
  const jti = JSON.parse(Buffer.from(t3.accessToken.split('.')[1]!, 'base64url').toString()).jti as string
  const sentAt = Date.now()
  await a.redis.publish(revocationChannel(a.config.redis.keyPrefix), JSON.stringify({ userId: user.userId, jti, reason: 'logout' }))
  const byJti = await viaHeader.closed
  t.equal(byJti.code, 4401, 'a jti revocation message closes the legacy socket')
  t.ok(byJti.at - sentAt < LIMIT_MS, `${byJti.at - sentAt} ms`)
  await sleep(100) // the server sees the close handshake end a moment after the client
  t.equal(instanceB.priceFeed.registry.ofUser(user.userId).length, 0, 'nothing of the user left in the maps')
})
