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
