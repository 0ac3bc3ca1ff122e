// Captured logs hold no cookie value, session secret, password or authorization header.
import t from 'tap'
import { Writable } from 'node:stream'
import { build } from './helper.js'
import { browser, login, PASSWORD, register } from './auth-helper.js'

t.test('logs at trace level never contain secrets', async t => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const app = await build(t, { LOG_LEVEL: 'trace' }, { logStream })
  const user = await register(app)
  const again = await login(app, user.email)
  await login(app, user.email, 'a wrong password value')
  await app.inject({ method: 'GET', url: '/api/auth/me', headers: { ...browser(again.cookie), authorization: 'Bearer secret-bearer-value' } })
  const newPassword = 'another long passphrase 99'
  await app.inject({ method: 'POST', url: '/api/auth/password', headers: browser(again.cookie), payload: { currentPassword: PASSWORD, newPassword } })
  await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(again.cookie) })

  const log = lines.join('')
  t.ok(lines.length > 10, 'requests were logged')
  for (const secret of [user.token, again.token, user.token.split('.')[1]!, PASSWORD, newPassword, 'a wrong password value', 'secret-bearer-value']) {
    t.notOk(log.includes(secret), `no ${secret.slice(0, 6)}… in the logs`)
  }
})

t.test('request log lines keep their request id; nothing is built for silent requests', async t => {
  const lines: string[] = []
  const logStream = new Writable({ write (chunk, _enc, cb) { lines.push(String(chunk)); cb() } })
  const app = await build(t, { LOG_LEVEL: 'info' }, { logStream })
  await app.inject('/api/health')
  const parsed = lines.map(l => JSON.parse(l) as { msg: string; reqId?: string })
  const incoming = parsed.find(l => l.msg === 'incoming request')
  const completed = parsed.find(l => l.msg === 'request completed')
  t.ok(incoming?.reqId, 'incoming request carries reqId')
  t.equal(completed?.reqId, incoming?.reqId, 'the same id on completion')

  const quiet: string[] = []
  const quietApp = await build(t, { LOG_LEVEL: 'warn' }, { logStream: new Writable({ write (chunk, _enc, cb) { quiet.push(String(chunk)); cb() } }) })
  await quietApp.inject('/api/health')
  await quietApp.inject('/api/nope')
  t.equal(quiet.length, 0, 'at warn a normal request writes nothing')
})
