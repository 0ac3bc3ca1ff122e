// Register and login through the API: cookie flags, what Postgres and Redis hold, errors.
import t from 'tap'
import { createHook } from 'node:async_hooks'
import { hashPassword, verifyPassword } from '../src/auth/passwords/hash.js'
import { build, adminSql, uniqueEmail } from './helper.js'
import { ORIGIN, PASSWORD, UA_FIREFOX, browser, login, me, register, sessionCookieOf } from './auth-helper.js'

t.test('register creates the user with an argon2id hash and a default portfolio, and logs in', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const email = uniqueEmail('Reg')
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email: `  ${email.toUpperCase()} `, password: PASSWORD } })
  t.equal(res.statusCode, 201, res.body)
  const body = res.json()
  t.equal(body.user.email, email.toLowerCase(), 'trimmed and lower-cased')
  t.equal(body.user.role, 'user')
  t.equal(body.auth.mode, 'session')
  t.ok(Date.parse(body.auth.expiresAt) > Date.now())

  const cookie = sessionCookieOf(res)!
  t.match(cookie.raw, /; HttpOnly/)
  t.match(cookie.raw, /; SameSite=Lax/)
  t.match(cookie.raw, /; Path=\//)
  t.notMatch(cookie.raw, /Secure/, 'not Secure over plain http outside production')
  t.match(cookie.value, /^[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/)

  const [row] = await sql`select password_hash, role from users where id = ${body.user.id}`
  t.match(row!.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
  const portfolios = await sql`select name from portfolios where user_id = ${body.user.id}`
  t.same(portfolios.map(p => p.name), ['Main'])

  const who = await me(app, `sid=${cookie.value}`)
  t.equal(who.statusCode, 200)
  t.same(who.json().user, body.user)
})

t.test('production mode: Secure cookie named __Host-sid', async t => {
  const app = await build(t, { NODE_ENV: 'production', COOKIE_SECURE: 'auto' })
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email: uniqueEmail(), password: PASSWORD } })
  t.equal(res.statusCode, 201)
  const cookie = sessionCookieOf(res, '__Host-sid')
  t.ok(cookie, 'named __Host-sid')
  t.match(cookie!.raw, /; Secure/)
  t.match(cookie!.raw, /; Path=\//)
  t.notMatch(cookie!.raw, /Domain=/i, '__Host- cookies carry no Domain')
  t.equal(sessionCookieOf(res, 'sid'), null)
})

t.test('a taken email is 409 AUTH_EMAIL_TAKEN, also when 20 registrations race', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const email = uniqueEmail('race')
  const results = await Promise.all(Array.from({ length: 20 }, () =>
    app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email, password: PASSWORD } })))
  const codes = results.map(r => r.statusCode).sort()
  t.equal(codes.filter(c => c === 201).length, 1, 'one 201')
  t.equal(codes.filter(c => c === 409).length, 19, 'nineteen 409')
  t.equal(results.find(r => r.statusCode === 409)!.json().code, 'AUTH_EMAIL_TAKEN')
  const rows = await sql`select id from users where lower(email) = ${email}`
  t.equal(rows.length, 1, 'one row')
  const again = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email: email.toUpperCase(), password: PASSWORD } })
  t.equal(again.statusCode, 409, 'case-insensitive')
})

t.test('weak passwords are refused and nothing is written', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  for (const [password, expect] of [['short-pass1', 400], ['x'.repeat(257), 400], ['password1234', 400]] as const) {
    const email = uniqueEmail('weak')
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email, password } })
    t.equal(res.statusCode, expect, `${password.slice(0, 20)} → ${res.body}`)
    t.equal((await sql`select 1 from users where email = ${email}`).length, 0)
  }
  const email = uniqueEmail('selfish')
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email, password: `${email.split('@')[0]}!!` } })
  t.equal(res.json().code, 'AUTH_PASSWORD_REJECTED')
})

t.test('login: same 401 for unknown email and wrong password; a fresh session each time', async t => {
  const app = await build(t)
  const user = await register(app)

  const wrong = await login(app, user.email, 'not the password at all')
  const unknown = await login(app, uniqueEmail('nobody'), PASSWORD)
  t.equal(wrong.res.statusCode, 401)
  t.equal(unknown.res.statusCode, 401)
  t.same(wrong.res.json(), unknown.res.json(), 'indistinguishable bodies')
  t.equal(wrong.res.json().code, 'AUTH_INVALID_CREDENTIALS')
  t.equal(sessionCookieOf(wrong.res), null, 'no cookie on failure')

  // a cookie the client sends before logging in is never adopted
  const planted = 'AAAAAAAAAAAAAAAA.' + 'B'.repeat(43)
  const ok = await login(app, user.email.toUpperCase(), PASSWORD, { cookie: `sid=${planted}` })
  t.equal(ok.res.statusCode, 200)
  t.equal(ok.res.json().auth.mode, 'session')
  t.not(ok.token, planted)
  t.not(ok.token, user.token, 'a new id, not the registration one')
  t.equal((await me(app, `sid=${planted}`)).statusCode, 401)
  t.equal((await me(app, ok.cookie)).statusCode, 200)
  t.equal((await me(app, user.cookie)).statusCode, 200, 'the earlier session stays valid')
})

t.test('an unknown email still runs a password verify, as a wrong password does', async t => {
  // what makes the two answers take the same time is the same native argon2 work; count the
  // native async jobs each login starts (their async_hooks type is calibrated on a bare verify)
  const app = await build(t)
  const user = await register(app)
  const stored = await hashPassword('x'.repeat(12))
  const nativeTypes = new Set((await asyncTypesDuring(() => verifyPassword(stored, 'y'.repeat(12)))).filter(type => !NODE_TYPES.has(type)))
  t.equal(nativeTypes.size, 1, `a bare verify starts one kind of addon job (${[...nativeTypes].join(', ')})`)
  const nativeJobs = async (email: string): Promise<number> => {
    let status = 0
    const types = await asyncTypesDuring(async () => { status = (await login(app, email, 'definitely-wrong-password')).res.statusCode })
    t.equal(status, 401, `${email} is refused`)
    return types.filter(type => nativeTypes.has(type)).length
  }
  t.equal(await nativeJobs(user.email), 1, 'a wrong password: one verify')
  t.equal(await nativeJobs(uniqueEmail('ghost')), 1, 'an unknown email: one verify too, against a dummy hash')
})

// async_hooks types Node itself creates (timers, sockets, streams…): anything else came from an addon
const NODE_TYPES = new Set(['PROMISE', 'Timeout', 'Immediate', 'TickObject', 'Microtask', 'TCPWRAP', 'TCPCONNECTWRAP',
  'TCPSERVERWRAP', 'WRITEWRAP', 'SHUTDOWNWRAP', 'GETADDRINFOREQWRAP', 'GETNAMEINFOREQWRAP', 'PIPEWRAP', 'PIPECONNECTWRAP',
  'FSREQCALLBACK', 'FSREQPROMISE', 'FILEHANDLE', 'STATWATCHER', 'HTTPINCOMINGMESSAGE', 'HTTPCLIENTREQUEST', 'TLSWRAP',
  'TTYWRAP', 'SIGNALWRAP', 'PROCESSWRAP', 'ZLIB', 'QUERYWRAP', 'UDPWRAP', 'UDPSENDWRAP', 'RANDOMBYTESREQUEST',
  'PBKDF2REQUEST', 'HASHREQUEST', 'SCRYPTREQUEST', 'JSSTREAM', 'MESSAGEPORT', 'WORKER', 'ELDHISTOGRAM', 'DNSCHANNEL'])

/** the async_hooks resource types created while fn runs */
async function asyncTypesDuring (fn: () => Promise<unknown>): Promise<string[]> {
  const types: string[] = []
  const hook = createHook({ init (_id, type) { types.push(type) } })
  hook.enable()
  try {
    await fn()
  } finally {
    hook.disable()
  }
  return types
}

t.test('logout ends the session for good and clears the cookie', async t => {
  const app = await build(t)
  const user = await register(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(user.cookie) })
  t.equal(res.statusCode, 204)
  const cleared = sessionCookieOf(res)!
  t.equal(cleared.value, '')
  t.match(cleared.raw, /Expires=Thu, 01 Jan 1970/)
  t.equal((await me(app, user.cookie)).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(user.cookie) })).statusCode, 401)
})

t.test('a disabled user cannot log in; wrong password still says invalid credentials', async t => {
  const app = await build(t)
  const sql = adminSql(t)
  const user = await register(app)
  await sql`update users set disabled_at = now() where id = ${user.userId}`
  const res = await login(app, user.email, PASSWORD)
  t.equal(res.res.statusCode, 403)
  t.equal(res.res.json().code, 'AUTH_ACCOUNT_DISABLED')
  t.equal((await login(app, user.email, 'wrong password here')).res.statusCode, 401)
})

t.test('the device is described from the User-Agent', async t => {
  const app = await build(t)
  const user = await register(app)
  const res = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(user.cookie, { 'user-agent': UA_FIREFOX }) })
  t.same(res.json().sessions[0].device, { browser: 'Firefox', os: 'Linux', type: 'desktop' })
})
