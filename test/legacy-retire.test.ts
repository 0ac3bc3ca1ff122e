// Retiring the legacy path (LEGACY_AUTH_ENABLED=false): Bearer and refresh tokens are refused
// 401 AUTH_LEGACY_RETIRED, every login and registration gets a session whatever the percentage,
// the legacy health probe is 503 and says why, the status shows it, a WebSocket upgrade that
// brings a token is refused before it opens, and a configuration that leaves nobody a way in
// does not start. Nothing is deleted: the same Redis and Postgres served by a server with the
// flag back on accept the tokens still valid and not deny-listed.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { build, adminSql, testEnv, uniqueEmail, uniquePrefix } from './helper.js'
import { register, PASSWORD, ORIGIN, sessionCookieOf } from './auth-helper.js'
import { bearer, legacyLogin, refresh } from './legacy-helper.js'
import { FEED_ENV, listening, connect } from './ws-helper.js'
import { parseConfig, ConfigError } from '../src/config/config.js'

const RETIRED = { LEGACY_AUTH_ENABLED: 'false' }

t.test('a retired server refuses legacy tokens and keeps every one of them for a return of the flag', async t => {
  const prefix = uniquePrefix() // one Redis for the three servers: the deny list must survive retirement
  const sql = adminSql(t)
  const before = await build(t, { NEW_AUTH_PERCENTAGE: '0', REDIS_KEY_PREFIX: prefix })
  const email = uniqueEmail('legacy')
  const reg = await before.inject({ method: 'POST', url: '/api/auth/register', payload: { email, password: PASSWORD } })
  t.equal(reg.json().auth.mode, 'legacy', 'at 0 % registration starts a legacy family')
  const kept = await legacyLogin(before, email)
  const loggedOut = await legacyLogin(before, email)
  t.equal((await before.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(loggedOut.accessToken) })).statusCode, 204)
  const familiesBefore = await sql`select id, revoked_at, token_hash from refresh_tokens where user_id = ${kept.userId} order by id`

  const retired = await build(t, { NEW_AUTH_PERCENTAGE: '0', REDIS_KEY_PREFIX: prefix, ...RETIRED })
  const me = await retired.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(kept.accessToken) })
  t.equal(me.statusCode, 401, 'a valid Bearer token is refused')
  t.equal(me.json().code, 'AUTH_LEGACY_RETIRED')
  t.match(me.json().message, /sign in again/)
  const portfolios = await retired.inject({ method: 'GET', url: '/api/portfolios', headers: bearer(kept.accessToken) })
  t.same([portfolios.statusCode, portfolios.json().code], [401, 'AUTH_LEGACY_RETIRED'], 'on data routes too')
  const admin = await retired.inject({ method: 'GET', url: '/api/admin/stats', headers: bearer('not-even-a-jwt') })
  t.same([admin.statusCode, admin.json().code], [401, 'AUTH_LEGACY_RETIRED'], 'any Bearer header is told legacy is retired')
  const anonymous = await retired.inject({ method: 'GET', url: '/api/auth/me' })
  t.same([anonymous.statusCode, anonymous.json().code], [401, 'AUTH_REQUIRED'], 'no credential at all is still AUTH_REQUIRED')

  const r = await refresh(retired, kept.refreshToken)
  t.same([r.statusCode, r.json().code], [401, 'AUTH_LEGACY_RETIRED'], 'a refresh token is refused')
  const badBody = await retired.inject({ method: 'POST', url: '/api/auth/refresh', payload: {} })
  t.same([badBody.statusCode, badBody.json().code], [401, 'AUTH_LEGACY_RETIRED'], 'refused before the body is read')
  t.same(await sql`select id, revoked_at, token_hash from refresh_tokens where user_id = ${kept.userId} order by id`, familiesBefore,
    'no refresh token was rotated, revoked or deleted by the refusals')

  // logins and registrations get sessions at 0 %, even from a client that still sends its stale token
  const login = await retired.inject({ method: 'POST', url: '/api/auth/login', headers: bearer(kept.accessToken), payload: { email, password: PASSWORD } })
  t.equal(login.statusCode, 200, 'a login with a stale Bearer header still works')
  t.equal(login.json().auth.mode, 'session', 'and gives a session at NEW_AUTH_PERCENTAGE=0')
  t.ok(sessionCookieOf(login), 'with its cookie')
  t.notOk('accessToken' in login.json().auth, 'and no legacy token')
  const newUser = await register(retired)
  t.not(newUser.cookie, '', 'a registration at 0 % gets a session cookie')
  const [count] = await sql<{ n: number }[]>`select count(*)::int as n from refresh_tokens where user_id in (${kept.userId}, ${newUser.userId})`
  t.equal(count?.n, familiesBefore.length, 'no legacy token was issued by the retired server')

  const health = await retired.inject({ method: 'GET', url: '/api/health/auth-legacy' })
  t.equal(health.statusCode, 503, 'the legacy health probe is 503')
  t.match(health.json().reason, /LEGACY_AUTH_ENABLED is false: legacy tokens are retired/)
  t.equal((await retired.inject({ method: 'GET', url: '/api/health/auth-v2' })).statusCode, 200, 'the sessions probe is not')
  const status = (await retired.inject({ method: 'GET', url: '/api/auth/status' })).json()
  t.equal(status.flags.legacyAuthEnabled, false, 'the status shows legacy retired')
  t.equal(status.effectivePercentage, 100, 'and that every login gets a session')

  // the flag back on: the same data, the same tokens
  const restored = await build(t, { NEW_AUTH_PERCENTAGE: '0', REDIS_KEY_PREFIX: prefix })
  const back = await restored.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(kept.accessToken) })
  t.equal(back.statusCode, 200, 'the access token that stayed valid is served again')
  const denied = await restored.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(loggedOut.accessToken) })
  t.same([denied.statusCode, denied.json().code], [401, 'AUTH_REQUIRED'], 'the one logged out before retirement stays refused (deny list kept)')
  const rotated = await refresh(restored, kept.refreshToken)
  t.equal(rotated.statusCode, 200, 'the refresh token rotates again')
  t.equal(rotated.json().auth.mode, 'legacy')
  t.same([(await refresh(restored, loggedOut.refreshToken)).statusCode], [401], 'the logged-out family stays revoked')
})

t.test('a WebSocket upgrade that brings a legacy token is refused before it opens', async t => {
  const app = await build(t, { ...FEED_ENV, NEW_AUTH_PERCENTAGE: '0', ...RETIRED })
  const url = await listening(app)
  const user = await register(app)
  const opened = async (headers: Record<string, string>) => {
    const s = connect(url, headers)
    const o = await s.opened
    if (o.open) s.ws.close()
    return o.open ? { status: 101, code: '' } : { status: o.status, code: JSON.parse(o.body).code }
  }
  t.same(await opened({ authorization: 'Bearer whatever' }), { status: 401, code: 'AUTH_LEGACY_RETIRED' }, 'Bearer header: 401')
  t.same(await opened({ authorization: 'token-follows' }), { status: 401, code: 'AUTH_LEGACY_RETIRED' }, 'an announced auth message: 401 (it would carry a legacy token)')
  t.same(await opened({}), { status: 401, code: 'AUTH_REQUIRED' }, 'nothing at all: AUTH_REQUIRED')
  t.equal(app.priceFeed.registry.all.size, 0, 'no socket was registered')
  t.same(await opened({ origin: ORIGIN, cookie: user.cookie }), { status: 101, code: '' }, 'a session cookie still opens the feed')
})

t.test('a configuration that leaves nobody a way in does not start, naming the variables', async t => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      parseConfig(testEnv(env))
      return []
    } catch (err) {
      return err instanceof ConfigError ? err.problems : [String(err)]
    }
  }
  t.match(problems({ ...RETIRED, ROLLBACK_MODE: 'true' }), [/^LEGACY_AUTH_ENABLED: false together with ROLLBACK_MODE=true leaves nobody a way to sign in/])
  t.match(problems({ ...RETIRED, NEW_AUTH_ENABLED: 'false' }), [/^LEGACY_AUTH_ENABLED: false together with NEW_AUTH_ENABLED=false leaves nobody/])
  t.match(problems({ ...RETIRED, NEW_AUTH_ENABLED: 'off', ROLLBACK_MODE: 'yes' }), [/ROLLBACK_MODE=true and NEW_AUTH_ENABLED=false/])
  t.same(problems({ ...RETIRED }), [], 'retired with sessions on starts')
  t.same(problems({ ROLLBACK_MODE: 'true' }), [], 'rollback with legacy on starts')
  const { warnings } = parseConfig(testEnv({ ...RETIRED, NEW_AUTH_PERCENTAGE: '30' }))
  t.match(warnings, [/NEW_AUTH_PERCENTAGE=30 has no effect while LEGACY_AUTH_ENABLED=false/], 'a percentage below 100 is said to be moot')

  const run = spawnSync(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: { ...process.env, ...testEnv({ ...RETIRED, ROLLBACK_MODE: 'true', MIGRATE_ON_START: 'false' }) },
    encoding: 'utf8',
    timeout: 60_000
  })
  t.equal(run.status, 1, 'the server exits 1 before listening')
  t.match(run.stderr, /hallpass: invalid configuration/)
  t.match(run.stderr, /LEGACY_AUTH_ENABLED.*ROLLBACK_MODE/)
})
