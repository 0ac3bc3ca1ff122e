// Bad bodies get a 400/413 naming the problem, and nothing is written.
import t from 'tap'
import { build, adminSql, uniqueEmail } from './helper.js'
import { ORIGIN, PASSWORD, browser, register } from './auth-helper.js'

t.test('register and login refuse malformed bodies without writing', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const email = uniqueEmail('bad')
  const cases: [string, unknown, RegExp][] = [
    ['missing password', { email }, /password/],
    ['missing email', { password: PASSWORD }, /email/],
    ['email not a string', { email: 42, password: PASSWORD }, /email/],
    ['password an array', { email, password: [PASSWORD] }, /password/],
    ['not an email', { email: 'not-an-email', password: PASSWORD }, /email/],
    ['email too long', { email: 'a'.repeat(250) + '@x.io', password: PASSWORD }, /email/]
  ]
  for (const [name, payload, field] of cases) {
    for (const url of ['/api/auth/register', '/api/auth/login']) {
      const res = await app.inject({ method: 'POST', url, headers: { origin: ORIGIN }, payload: payload as object })
      t.equal(res.statusCode, 400, `${url} ${name}`)
      t.equal(res.json().code, 'VALIDATION_FAILED')
      t.match(res.json().message, field, `${url} ${name}: the message names the field`)
    }
  }
  const junk = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN, 'content-type': 'application/json' }, payload: '{"email": ' })
  t.equal(junk.statusCode, 400, 'malformed JSON')
  t.equal((await sql`select 1 from users where email = ${email}`).length, 0, 'no user written')
})

t.test('a 1 MB body is a 413 before anything runs', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const email = uniqueEmail('huge')
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email, password: PASSWORD, pad: 'x'.repeat(1024 * 1024) } })
  t.equal(res.statusCode, 413)
  t.equal(res.json().statusCode, 413)
  t.equal((await sql`select 1 from users where email = ${email}`).length, 0)

  const user = await register(app)
  const [before] = await sql`select password_hash from users where id = ${user.userId}`
  const change = await app.inject({ method: 'POST', url: '/api/auth/password', headers: browser(user.cookie), payload: { currentPassword: PASSWORD, newPassword: 'y'.repeat(1024 * 1024) } })
  t.equal(change.statusCode, 413)
  const [after] = await sql`select password_hash from users where id = ${user.userId}`
  t.match(before!.password_hash, /^\$argon2id\$/)
  t.equal(after!.password_hash, before!.password_hash, 'password hash unchanged')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: ORIGIN }, payload: { email: user.email, password: PASSWORD } })).statusCode, 200)
})
