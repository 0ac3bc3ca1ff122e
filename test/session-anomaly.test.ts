// SESSION_ANOMALY: a session used from another IP or another browser family than the one it
// was created with is audited once per (session, IP, browser), not once per request.
import t from 'tap'
import { build, adminSql } from './helper.js'
import { UA_CHROME, UA_FIREFOX, browser, register } from './auth-helper.js'

const UA_FIREFOX_NEWER = UA_FIREFOX.replace(/128\.0/g, '131.0')

t.test('a new IP or browser is audited once; the same device is not', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const user = await register(app) // from 127.0.0.1, Firefox
  const use = async (remoteAddress: string, ua: string) => {
    const res = await app.inject({ method: 'GET', url: '/api/auth/me', remoteAddress, headers: browser(user.cookie, { 'user-agent': ua }) })
    t.equal(res.statusCode, 200, `${remoteAddress} ${ua.slice(-12)}: the session still works`)
  }
  await use('127.0.0.1', UA_FIREFOX) // the device it was made on
  await use('127.0.0.1', UA_FIREFOX_NEWER) // a browser update: same family, same IP
  await use('203.0.113.9', UA_FIREFOX) // another IP
  await use('203.0.113.9', UA_FIREFOX) // the same again: already reported
  await use('127.0.0.1', UA_CHROME) // another browser
  await use('127.0.0.1', UA_CHROME)
  await app.audit.flush()

  const rows = await sql`select ip::text as ip, user_agent, details, session_public_id is not null as has_session from audit_logs
                         where user_id = ${user.userId} and type = 'SESSION_ANOMALY' order by id`
  t.same(rows, [
    { ip: '203.0.113.9/32', user_agent: UA_FIREFOX, has_session: true, details: { ipChanged: true, browserChanged: false, loginIp: '127.0.0.1', loginBrowser: 'Firefox', browser: 'Firefox' } },
    { ip: '127.0.0.1/32', user_agent: UA_CHROME, has_session: true, details: { ipChanged: false, browserChanged: true, loginIp: '127.0.0.1', loginBrowser: 'Firefox', browser: 'Chrome' } }
  ])
})
