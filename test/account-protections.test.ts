// Account protections around revocation: the backoff counts before argon2 (login and password
// change), logout is never refused, access tokens need iss and aud, a demoted admin loses the
// admin routes at once, refusals and admin reads are audited, the session mirror agrees with
// Redis, the legacy logout lookup uses an index, and registration's email answer is limited.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { Redis } from 'ioredis'
import { adminSql, build, testConfig, uniqueEmail } from './helper.js'
import { createRedis } from '../src/infra/redis.js'
import { revocationChannel } from '../src/auth/revocations.js'
import { createLoginBackoff } from '../src/auth/backoff.js'
import { browser, login, me, ORIGIN, PASSWORD, register } from './auth-helper.js'
import { bearer, handMadeJwt, legacyLogin, validClaims } from './legacy-helper.js'

const WRONG = 'not the password at all 99'
// the audit table outlives runs and is shared by files: each test's refusals come from its own address
const freshIp = (): string => `198.18.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`

async function auditRows (t: Test, app: FastifyInstance, where: { type: string; userId?: string; ip?: string }) {
  await app.audit.flush()
  const sql = adminSql(t)
  return sql<{ type: string; details: Record<string, unknown>; ip: string | null; userId: string | null }[]>`
    select type, details, host(ip) as ip, user_id as "userId" from audit_logs
    where type = ${where.type}
      ${where.userId ? sql`and user_id = ${where.userId}` : sql``}
      ${where.ip ? sql`and ip = ${where.ip}::inet` : sql``}
    order by id`
}

async function makeAdmin (t: Test, app: FastifyInstance) {
  const admin = await register(app)
  await adminSql(t)`update users set role = 'admin' where id = ${admin.userId}`
  return login(app, admin.email)
}

/** what the client of either mode sends back */
async function credentialOf (app: FastifyInstance, email: string, mode: 'session' | 'legacy'): Promise<Record<string, string>> {
  return mode === 'session' ? browser((await login(app, email)).cookie) : bearer((await legacyLogin(app, email)).accessToken)
}

t.test('50 concurrent wrong passwords for one account: at most the threshold reach argon2', async t => {
  const app = await build(t, { LOGIN_BACKOFF_THRESHOLD: '5', RATE_LIMIT_LOGIN: '100000/1m' })
  const user = await register(app)
  const ip = freshIp()
  const answers = await Promise.all(Array.from({ length: 50 }, () =>
    app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: ORIGIN }, payload: { email: user.email, password: WRONG }, remoteAddress: ip })))
  const checked = answers.filter(r => r.statusCode === 401).length
  const refused = answers.filter(r => r.statusCode === 429)
  t.comment(`${checked} guesses verified, ${refused.length} refused`)
  t.ok(checked <= 5, `${checked} verified, threshold 5`)
  t.equal(checked + refused.length, 50, 'every other guess refused')
  t.ok(refused.every(r => r.json().code === 'AUTH_TOO_MANY_ATTEMPTS' && Number(r.headers['retry-after']) >= 1))
  t.equal((await auditRows(t, app, { type: 'LOGIN_FAILURE', userId: user.userId })).length, checked, 'one failure row per verified guess')
  const tallied = await auditRows(t, app, { type: 'LOGIN_BACKOFF_REFUSED', ip })
  t.equal(tallied.length, 1, 'the refusals are one aggregated row')
  t.equal(tallied[0]!.details.count, refused.length, 'counting every refusal')
})

t.test('the password change is guarded by the same backoff', async t => {
  const app = await build(t, { LOGIN_BACKOFF_THRESHOLD: '5', RATE_LIMIT_LOGIN: '100000/1m' })
  const user = await register(app)
  const change = (currentPassword: string) => app.inject({
    method: 'POST', url: '/api/auth/password', headers: browser(user.cookie), payload: { currentPassword, newPassword: 'a brand new passphrase 77' }
  })
  const statuses = []
  for (let i = 0; i < 5; i++) statuses.push((await change(WRONG)).statusCode)
  // the first lock lasts 1 s; a slow machine could outlast it, so lengthen it the way further
  // failures would (to 32 s) before checking what a locked account answers
  const backoff = createLoginBackoff(app.redis, app.config)
  for (let i = 0; i < 5; i++) await backoff.recordFailure(user.email)
  for (let i = 0; i < 3; i++) statuses.push((await change(WRONG)).statusCode)
  t.same(statuses, [401, 401, 401, 401, 401, 429, 429, 429], 'five guesses, then refused')
  const right = await change(PASSWORD)
  t.equal(right.statusCode, 429, 'the right password does not get through the lock')
  t.equal(right.json().code, 'AUTH_TOO_MANY_ATTEMPTS')
  t.equal((await me(app, user.cookie)).statusCode, 200, 'the session is untouched')
  const concurrent = await Promise.all(Array.from({ length: 20 }, () => change(WRONG)))
  t.equal(concurrent.filter(r => r.statusCode === 401).length, 0, 'no concurrent guess slips past the lock')
})

t.test('logout is never refused, whatever the IP has done', async t => {
  // RATE_LIMIT_LOGOUT was the per-IP limit that could be exhausted by a neighbour
  const app = await build(t, { RATE_LIMIT_LOGOUT: '2/1h', RATE_LIMIT_LOGIN: '100000/1m' } as Record<string, string>)
  const nat = { remoteAddress: '198.51.100.20' }
  const neighbour = await register(app)
  for (let i = 0; i < 3; i++) {
    const s = await login(app, neighbour.email)
    t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(s.cookie), ...nat })).statusCode, 204)
  }
  const victim = await register(app)
  const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(victim.cookie), ...nat })
  t.equal(res.statusCode, 204, 'the victim logs out behind the same address')
  t.equal((await me(app, victim.cookie)).statusCode, 401, 'and the session is gone')
  const all = await login(app, victim.email)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: browser(all.cookie), ...nat })).statusCode, 200)
  t.equal((await me(app, all.cookie)).statusCode, 401)
})

t.test('access tokens without iss or aud are refused (not only wrong ones)', async t => {
  const app = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const user = await register(app)
  const call = (token: string) => app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) })
  t.equal((await call(handMadeJwt(validClaims(user.userId)))).statusCode, 200, 'the control token works')
  for (const missing of ['iss', 'aud']) {
    const claims = validClaims(user.userId)
    delete claims[missing]
    const res = await call(handMadeJwt(claims))
    t.equal(res.statusCode, 401, `without ${missing}`)
    t.equal(res.json().code, 'AUTH_REQUIRED')
  }
  t.equal((await call(handMadeJwt(validClaims(user.userId, { iss: 'other' })))).statusCode, 401, 'wrong iss')
  t.equal((await call(handMadeJwt(validClaims(user.userId, { aud: 'other' })))).statusCode, 401, 'wrong aud')
  t.equal((await call(handMadeJwt(validClaims(user.userId, { cv: 0 })))).statusCode, 401, 'a version below 1')
})

for (const mode of ['session', 'legacy'] as const) {
  t.test(`a demoted admin loses the admin routes at once (${mode})`, async t => {
    const app = await build(t, { NEW_AUTH_PERCENTAGE: mode === 'session' ? '100' : '0' })
    const boss = await register(app)
    const target = await register(app)
    await adminSql(t)`update users set role = 'admin' where id = any(${[boss.userId, target.userId]}::uuid[])`
    const bossAuth = await credentialOf(app, boss.email, mode)
    const held = await credentialOf(app, target.email, mode)
    t.equal((await app.inject({ method: 'GET', url: '/api/admin/stats', headers: held })).statusCode, 200, 'an admin before')

    const demote = await app.inject({ method: 'POST', url: `/api/admin/users/${target.userId}/role`, headers: bossAuth, payload: { role: 'user' } })
    t.equal(demote.statusCode, 200)
    t.same(demote.json().user, { id: target.userId, email: target.email, role: 'user' })
    t.ok(demote.json().revoked >= 1, 'the credentials held under the old role ended')
    t.equal((await app.inject({ method: 'GET', url: '/api/admin/stats', headers: held })).statusCode, 401, 'the old credential is gone')
    const fresh = await credentialOf(app, target.email, mode)
    t.equal((await app.inject({ method: 'GET', url: '/api/admin/stats', headers: fresh })).statusCode, 403, 'a new login is a plain user')
    const [row] = await auditRows(t, app, { type: 'ADMIN_ROLE_CHANGED', userId: target.userId })
    t.match(row?.details, { adminId: boss.userId, from: 'admin', to: 'user' })
    const version = await adminSql(t)<{ v: number }[]>`select credential_version::int as v from users where id = ${target.userId}`
    t.equal(version[0]!.v, 2, 'the role change bumped the credential version')

    const bad = await app.inject({ method: 'POST', url: `/api/admin/users/${target.userId}/role`, headers: bossAuth, payload: { role: 'root' } })
    t.equal(bad.statusCode, 400)
    const none = await app.inject({ method: 'POST', url: '/api/admin/users/00000000-0000-4000-8000-000000000000/role', headers: bossAuth, payload: { role: 'user' } })
    t.equal(none.statusCode, 404)
  })
}

t.test('admin reads, CSRF refusals and 429s leave audit rows (refusals aggregated per minute)', async t => {
  const app = await build(t, { RATE_LIMIT_LOGIN: '2/1m' })
  const admin = await makeAdmin(t, app)
  const user = await register(app)
  for (const url of [`/api/admin/users/${user.userId}/sessions`, '/api/admin/stats', `/api/admin/audit?userId=${user.userId}`]) {
    t.equal((await app.inject({ method: 'GET', url, headers: browser(admin.cookie) })).statusCode, 200, url)
  }
  const reads = (await auditRows(t, app, { type: 'ADMIN_READ' })).filter(r => r.details.adminId === admin.userId)
  t.same(reads.map(r => r.details.read), ['sessions', 'stats', 'audit'])

  const ip = freshIp()
  for (let i = 0; i < 3; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: user.cookie, origin: 'https://evil.example' }, remoteAddress: ip })
    t.equal(res.json().code, 'CSRF_ORIGIN_REJECTED')
  }
  const csrf = await auditRows(t, app, { type: 'CSRF_REFUSED', ip })
  t.equal(csrf.length, 1, 'one row for the minute')
  t.equal(csrf[0]!.details.count, 3)
  t.equal(csrf[0]!.userId, user.userId)

  const limitedIp = freshIp()
  for (let i = 0; i < 5; i++) {
    await app.inject({ method: 'POST', url: '/api/auth/login', headers: { origin: ORIGIN }, payload: { email: uniqueEmail(), password: WRONG }, remoteAddress: limitedIp })
  }
  const limited = await auditRows(t, app, { type: 'RATE_LIMITED', ip: limitedIp })
  t.equal(limited.length, 1)
  t.equal(limited[0]!.details.count, 3, 'requests 3 to 5 were refused')
})

t.test('the session mirror agrees with Redis after 30 login-logout pairs', async t => {
  const app = await build(t, { MAX_SESSIONS_PER_USER: '1000', RATE_LIMIT_LOGIN: '100000/1m' })
  const user = await register(app)
  const ids: string[] = []
  for (let i = 0; i < 30; i++) {
    const s = await login(app, user.email)
    const id = (await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(s.cookie) })).json()
      .sessions.find((x: { current: boolean }) => x.current).id
    ids.push(id)
    // straight out: the mirror's insert for this login may not have landed yet
    t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', headers: browser(s.cookie) })).statusCode, 204)
  }
  await app.sessionMirror.flush()
  const rows = await adminSql(t)<{ id: string; revoked: boolean; device: Record<string, unknown> }[]>`
    select public_id as id, revoked_at is not null as revoked, device from user_sessions where public_id = any(${ids}::text[])`
  t.equal(rows.length, 30, 'every session is mirrored')
  t.equal(rows.filter(r => !r.revoked).length, 0, 'none of them shows as live')
  t.ok(rows.every(r => typeof r.device.browser === 'string'), 'and the details of the login are there')
  const [live] = await adminSql(t)<{ n: number }[]>`
    select count(*)::int as n from user_sessions where user_id = ${user.userId} and revoked_at is null`
  t.equal(live!.n, 1, 'only the registration session is live, as in Redis')
  t.equal((await app.sessions.list(user.userId)).length, 1)
})

t.test('the legacy logout finds the family by access_jti through an index', async t => {
  const sql = adminSql(t)
  // with sequential scans priced out, a plan without a usable index still shows Seq Scan
  const plan = await sql.begin(async tx => {
    await tx`set local enable_seqscan = off`
    return tx<{ 'QUERY PLAN': string }[]>`explain select family_id from refresh_tokens where access_jti = ${'x'} limit 1`
  }) as { 'QUERY PLAN': string }[]
  const text = plan.map(r => r['QUERY PLAN']).join('\n')
  t.comment(text)
  t.notMatch(text, /Seq Scan/, 'no sequential scan')
  t.match(text, /refresh_tokens_access_jti_idx/)
})

t.test('registering a taken email: audited, and limited per IP more tightly than login', async t => {
  const app = await build(t, { RATE_LIMIT_REGISTER: '3/1h', RATE_LIMIT_LOGIN: '100/1m' })
  const ip = freshIp()
  const taken = await register(app)
  const reg = (email: string) => app.inject({ method: 'POST', url: '/api/auth/register', headers: { origin: ORIGIN }, payload: { email, password: PASSWORD }, remoteAddress: ip })
  const first = await reg(taken.email)
  t.equal(first.statusCode, 409)
  t.equal(first.json().code, 'AUTH_EMAIL_TAKEN')
  t.equal((await auditRows(t, app, { type: 'REGISTER_EMAIL_TAKEN', ip })).length, 1, 'the probe is audited')
  t.equal((await reg(uniqueEmail())).statusCode, 201)
  t.equal((await reg(uniqueEmail())).statusCode, 201)
  const fourth = await reg(taken.email)
  t.equal(fourth.statusCode, 429, 'the fourth registration from the address is refused')
  t.equal(fourth.json().code, 'RATE_LIMITED')
})

t.test('the revocation channel carries user-wide and legacy-logout messages', async t => {
  const app = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const sub = createRedis(testConfig().redis, { enableOfflineQueue: true }) as Redis
  t.teardown(() => sub.disconnect())
  await sub.subscribe(revocationChannel(app.config.redis.keyPrefix))
  const heard: Record<string, unknown>[] = []
  sub.on('message', (_channel: string, payload: string) => heard.push(JSON.parse(payload)))
  const user = await register(app)
  const first = await legacyLogin(app, user.email)
  const jti = JSON.parse(Buffer.from(first.accessToken.split('.')[1]!, 'base64url').toString()).jti
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(first.accessToken) })).statusCode, 204)
  const second = await legacyLogin(app, user.email)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: bearer(second.accessToken) })).statusCode, 200)
  for (let i = 0; i < 100 && heard.length < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
  // every message carries its publish time (ms) for the propagation metric: the legacy logout's
  // from TypeScript, the user-wide one's from the session script (Redis' clock)
  const [at, allAt] = [heard[0]?.at, heard[1]?.at]
  t.type(at, 'number', 'the legacy logout is stamped')
  t.type(allAt, 'number', 'the user-wide message is stamped')
  t.ok(Math.abs(Number(at) - Date.now()) < 60_000 && Math.abs(Number(allAt) - Date.now()) < 60_000, 'with the time it was published')
  t.same(heard, [{ userId: user.userId, jti, reason: 'logout', at }, { userId: user.userId, reason: 'logout_all', at: allAt }])
})
