// GET /api/admin/migration: the legacy report's numbers for the operator's page, from the same
// computation as npm run legacy:report; 401 without a credential, 403 for a non-admin, audited.
// The app reads refresh_tokens from a schema of this test's own (legacy-report-helper.ts), so the
// counts are exact while other files write to the shared table.
import t from 'tap'
import { build, adminSql, waitFor } from './helper.js'
import { browser, login, register } from './auth-helper.js'
import { legacyLogin } from './legacy-helper.js'
import { ownSchema } from './legacy-report-helper.js'
import { readPublishedRollouts } from '../src/auth/rollout-instances.js'

t.test('the migration progress: who may read it, what it says, the audit row', async t => {
  const seed = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const legacyUser = await register(seed) // a legacy family at 0 % …
  await legacyLogin(seed, legacyUser.email) // … and a second one
  const { appUrl } = await ownSchema(t, legacyUser.userId)

  const app = await build(t, { DATABASE_URL: appUrl })
  const sql = adminSql(t)
  const plain = await register(app)
  const admin = await register(app)
  await sql`update users set role = 'admin' where id = ${admin.userId}`
  const adminSession = await login(app, admin.email) // a session minted with the new role
  await waitFor(async () => (await readPublishedRollouts(app.redis, app.config.redis.keyPrefix)).length === 1, { what: 'the app published its rollout' })

  const anonymous = await app.inject({ method: 'GET', url: '/api/admin/migration' })
  t.same([anonymous.statusCode, anonymous.json().code], [401, 'AUTH_REQUIRED'])
  const forbidden = await app.inject({ method: 'GET', url: '/api/admin/migration', headers: browser(plain.cookie) })
  t.same([forbidden.statusCode, forbidden.json().code], [403, 'AUTH_FORBIDDEN'], 'a non-admin gets 403')
  t.notMatch(forbidden.body, /usersWithLiveLegacyFamilies/, 'and no numbers')

  const res = await app.inject({ method: 'GET', url: '/api/admin/migration', headers: browser(adminSession.cookie) })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.match(body, {
    servers: { count: 1, effectivePercentage: 100, agree: true, legacyRetired: false },
    usersWithLiveLegacyFamilies: 1,
    liveFamilies: 2,
    inSessionsBucket: 1,
    stillLegacy: 0,
    verdict: { safeToRetire: false, text: 'not yet: 1 user still holds 2 live legacy refresh families; 1 of them is in the sessions bucket at 100 % and moves to a session at the next refresh' }
  })
  t.same(Object.keys(body.servers.instances[0].flags).sort(), ['legacyAuthEnabled', 'newAuthEnabled', 'newAuthPercentage', 'rollbackMode', 'securityLockdown'], 'the published flags, nothing more')

  const row = await waitFor(async () => (await sql<{ userId: string | null; details: Record<string, unknown> }[]>`
    select user_id as "userId", details from audit_logs where type = 'ADMIN_READ' and details->>'adminId' = ${admin.userId} and details->>'read' = 'migration'`)[0],
  { what: 'the audit row' })
  t.equal(row.userId, null, 'the read is audited with the acting admin and no target user')

  // once every server has retired the legacy path, the verdict says who must sign in again
  await app.close()
  const retired = await build(t, { DATABASE_URL: appUrl, LEGACY_AUTH_ENABLED: 'false' })
  const admin2 = await login(retired, admin.email)
  await waitFor(async () => (await readPublishedRollouts(retired.redis, retired.config.redis.keyPrefix)).length === 1, { what: 'published' })
  const after = (await retired.inject({ method: 'GET', url: '/api/admin/migration', headers: browser(admin2.cookie) })).json()
  t.match(after, { servers: { legacyRetired: true, effectivePercentage: 100 }, verdict: { safeToRetire: false, text: /^retired, but 1 user still holds 2 live legacy refresh families: they must sign in again/ } })
})
