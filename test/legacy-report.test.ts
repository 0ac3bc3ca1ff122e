// npm run legacy:report counts users still on legacy refresh families and those already in
// the sessions bucket. The report reads the whole table, so it runs against a schema of this
// test's own (a copy of refresh_tokens holding only our user's rows, found through
// search_path): other test files writing at the same time cannot change its counts.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { spawnSync } from 'node:child_process'
import { build, testEnv, TEST_DATABASE_URL, adminSql } from './helper.js'
import { register } from './auth-helper.js'
import { legacyLogin } from './legacy-helper.js'
import { bucket } from '../src/auth/rollout.js'

t.test('the report counts live legacy families against the rollout', async t => {
  const app = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const sql = adminSql(t)
  const user = await register(app) // at 0% registration starts a legacy family …
  await legacyLogin(app, user.email) // … and a login a second one

  const schema = `legacy_report_${randomBytes(4).toString('hex')}`
  await sql.unsafe(`create schema ${schema}`)
  t.teardown(() => sql.unsafe(`drop schema ${schema} cascade`))
  await sql.unsafe(`create table ${schema}.refresh_tokens (like public.refresh_tokens including all)`)
  await sql.unsafe(`insert into ${schema}.refresh_tokens select * from public.refresh_tokens where user_id = $1`, [user.userId])
  await sql.unsafe(`grant usage on schema ${schema} to hallpass_app; grant select on ${schema}.refresh_tokens to hallpass_app`)

  const url = new URL(TEST_DATABASE_URL)
  url.searchParams.set('search_path', schema)
  const run = (pct: number) => {
    const out = spawnSync(process.execPath, ['--import=tsx', 'scripts/legacy-report.ts', '--json'], {
      env: { ...process.env, ...testEnv({ NEW_AUTH_PERCENTAGE: String(pct) }), DATABASE_URL: url.toString() },
      encoding: 'utf8'
    })
    t.equal(out.status, 0, out.stderr)
    return JSON.parse(out.stdout)
  }

  const b = bucket(user.userId)
  t.same(run(b + 1), { effectivePercentage: b + 1, usersWithLiveLegacyFamilies: 1, liveFamilies: 2, inSessionsBucket: 1, stillLegacy: 0 }, 'covered: moves at the next refresh')
  t.same(run(b), { effectivePercentage: b, usersWithLiveLegacyFamilies: 1, liveFamilies: 2, inSessionsBucket: 0, stillLegacy: 1 }, 'one point short: stays legacy')

  // revoked and expired families are not live
  await sql.unsafe(`update ${schema}.refresh_tokens set revoked_at = now() where id = (select id from ${schema}.refresh_tokens order by created_at limit 1)`)
  t.match(run(100), { usersWithLiveLegacyFamilies: 1, liveFamilies: 1 }, 'a revoked family no longer counts')
  await sql.unsafe(`update ${schema}.refresh_tokens set expires_at = now() - interval '1 second'`)
  t.same(run(100), { effectivePercentage: 100, usersWithLiveLegacyFamilies: 0, liveFamilies: 0, inSessionsBucket: 0, stillLegacy: 0 }, 'expired: nobody left')
})
