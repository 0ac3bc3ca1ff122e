// npm run legacy:report counts users still on legacy refresh families and those already in
// the sessions bucket.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { build, testEnv, TEST_DATABASE_URL, adminSql } from './helper.js'
import { register } from './auth-helper.js'
import { legacyLogin } from './legacy-helper.js'
import { bucket } from '../src/auth/rollout.js'

t.test('the report counts live legacy families against the rollout', async t => {
  const app = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const sql = adminSql(t)
  const user = await register(app)
  await legacyLogin(app, user.email)
  const env = { ...process.env, ...testEnv({ NEW_AUTH_PERCENTAGE: String(bucket(user.userId) + 1) }), DATABASE_URL: TEST_DATABASE_URL }
  const run = (pct: string) => spawnSync(process.execPath, ['--import=tsx', 'scripts/legacy-report.ts', '--json'], { env: { ...env, NEW_AUTH_PERCENTAGE: pct }, encoding: 'utf8' })

  const [expected] = await sql`select count(distinct user_id)::int as users from refresh_tokens where revoked_at is null and expires_at > now()`
  const covering = run(String(bucket(user.userId) + 1))
  t.equal(covering.status, 0, covering.stderr)
  const withUser = JSON.parse(covering.stdout)
  t.equal(withUser.usersWithLiveLegacyFamilies, expected!.users)
  const none = JSON.parse(run('0').stdout)
  t.equal(none.inSessionsBucket, 0, 'at 0% nobody is in the sessions bucket')
  t.equal(none.stillLegacy, none.usersWithLiveLegacyFamilies)
  t.ok(withUser.inSessionsBucket >= 1, 'our user is in the bucket once the percentage covers it')
  const all = JSON.parse(run('100').stdout)
  t.equal(all.stillLegacy, 0)
})
