// The upgrade to /ws/prices is refused as HTTP, before a socket opens, for a foreign Origin, a
// cookie without an Origin, no credential, a plain GET; a browser with its cookie gets in.
import t from 'tap'
import { build } from './helper.js'
import { register, ORIGIN } from './auth-helper.js'
import { FEED_ENV, listening, connect, browserSocket, closeAll } from './ws-helper.js'

t.test('who may open a price socket', async t => {
  const app = await build(t, FEED_ENV)
  const url = await listening(app)
  const user = await register(app)

  const refused = async (headers: Record<string, string>) => {
    const s = connect(url, headers)
    const o = await s.opened
    return o.open ? { status: 101, code: '' } : { status: o.status, code: JSON.parse(o.body).code }
  }

  t.same(await refused({ cookie: user.cookie, origin: 'https://evil.example' }), { status: 403, code: 'WS_ORIGIN_REJECTED' }, 'foreign Origin with the cookie: 403')
  t.same(await refused({ cookie: user.cookie, origin: 'null' }), { status: 403, code: 'WS_ORIGIN_REJECTED' }, 'opaque Origin: 403')
  t.same(await refused({ cookie: user.cookie }), { status: 403, code: 'WS_ORIGIN_REJECTED' }, 'a cookie and no Origin: 403')
  t.same(await refused({ origin: ORIGIN }), { status: 401, code: 'AUTH_REQUIRED' }, 'no cookie, no Authorization: 401')
  t.same(await refused({ origin: ORIGIN, cookie: 'sid=AAAAAAAAAAAAAAAA.' + 'A'.repeat(43) }), { status: 401, code: 'AUTH_REQUIRED' }, 'an unknown cookie: 401')
  t.equal(app.priceFeed.registry.all.size, 0, 'no socket was registered for any refused upgrade')

  const plain = await app.inject({ method: 'GET', url: '/ws/prices', headers: { origin: ORIGIN, cookie: user.cookie } })
  t.equal(plain.statusCode, 426, 'a plain GET is told to upgrade')
  t.equal(plain.json().code, 'WS_UPGRADE_REQUIRED')

  const s = await browserSocket(url, user.cookie)
  t.equal(app.priceFeed.registry.ofUser(user.userId).length, 1, 'the socket is registered under its user')
  await closeAll([s])
})

t.test('security lockdown closes the feed at the upgrade; rollback does not', async t => {
  const locked = await build(t, { ...FEED_ENV, SECURITY_LOCKDOWN: 'true' })
  const url = await listening(locked)
  const s = connect(url, { origin: ORIGIN, cookie: 'sid=x' })
  const o = await s.opened
  t.same(o.open ? 101 : [o.status, JSON.parse(o.body).code], [503, 'SECURITY_LOCKDOWN'])

  const rolledBack = await build(t, { ...FEED_ENV, ROLLBACK_MODE: 'true' })
  const url2 = await listening(rolledBack)
  // a session made before the rollback keeps working
  const session = await rolledBack.sessions.create({ userId: (await register(await build(t, FEED_ENV))).userId, email: 'x@example.test', role: 'user', ip: '127.0.0.1', userAgent: 'ua', device: { browser: 'x', os: 'y', type: 'z' }, credentialVersion: 1 })
  t.ok(session, 'created')
  const ok = await browserSocket(url2, `sid=${session!.token}`)
  t.equal(ok.ws.readyState, ok.ws.OPEN, 'open during a rollback')
  await closeAll([ok])
})
