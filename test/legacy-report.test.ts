// npm run legacy:report counts users still on legacy refresh families and those already in
// the sessions bucket of the rollout the RUNNING servers publish to Redis (not the report's own
// environment), and ends with a verdict; a database that does not answer is one line. The report
// reads the whole table, so it runs against a schema of this test's own (legacy-report-helper.ts).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { build, TEST_DATABASE_URL, adminSql, uniquePrefix, waitFor, freePort } from './helper.js'
import { ownSchema, runReport } from './legacy-report-helper.js'
import { register } from './auth-helper.js'
import { legacyLogin } from './legacy-helper.js'
import { bucket } from '../src/auth/rollout.js'
import { writeOverride } from '../src/auth/rollout-override.js'
import { readPublishedRollouts } from '../src/auth/rollout-instances.js'

t.test('the report reads the rollout the running servers publish, not its own environment', async t => {
  const prefix = uniquePrefix()
  const seed = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const user = await register(seed) // at 0% registration starts a legacy family …
  await legacyLogin(seed, user.email) // … and a login a second one
  const b = bucket(user.userId)
  const { url, schema } = await ownSchema(t, user.userId)

  // the server covers the user at b+1 %; the report's shell says 0 %, which must not matter
  const server = await build(t, { NEW_AUTH_PERCENTAGE: String(b + 1), REDIS_KEY_PREFIX: prefix })
  const shell = { NEW_AUTH_PERCENTAGE: '0', REDIS_KEY_PREFIX: prefix, DATABASE_URL: url }
  await waitFor(async () => (await readPublishedRollouts(server.redis, prefix)).length === 1, { what: 'the server published' })

  const covered = runReport(shell)
  t.equal(covered.status, 0, covered.stderr)
  t.match(JSON.parse(covered.stdout), {
    servers: { count: 1, effectivePercentage: b + 1, agree: true, legacyRetired: false },
    usersWithLiveLegacyFamilies: 1,
    liveFamilies: 2,
    inSessionsBucket: 1,
    stillLegacy: 0,
    verdict: { safeToRetire: false, text: `not yet: 1 user still holds 2 live legacy refresh families; 1 of them is in the sessions bucket at ${b + 1} % and moves to a session at the next refresh` }
  }, 'covered at the servers\' percentage')

  // an override the servers apply lowers what they publish: one point short, the user stays legacy
  await writeOverride(server.redis, prefix, { maxPercentage: b, reason: 'test', at: new Date().toISOString() })
  await waitFor(async () => (await readPublishedRollouts(server.redis, prefix))[0]?.effectivePercentage === b, { what: 'the override published' })
  const short = runReport(shell, false)
  t.equal(short.status, 0, short.stderr)
  t.match(short.stdout, new RegExp(`rollout in force: ${b}% of users get sessions \\(1 server\\)`))
  t.match(short.stdout, /of them staying on legacy at this percentage: 1/)
  t.match(short.stdout, new RegExp(`verdict: not yet: 1 user still holds 2 live legacy refresh families; 0 of them are in the sessions bucket at ${b} %`))

  // revoked and expired families are not live; none left is the verdict to retire
  const sql = adminSql(t)
  await sql.unsafe(`update ${schema}.refresh_tokens set revoked_at = now() where id = (select id from ${schema}.refresh_tokens order by created_at limit 1)`)
  t.match(JSON.parse(runReport(shell).stdout), { usersWithLiveLegacyFamilies: 1, liveFamilies: 1 }, 'a revoked family no longer counts')
  await sql.unsafe(`update ${schema}.refresh_tokens set expires_at = now() - interval '1 second'`)
  const done = runReport(shell, false)
  t.match(done.stdout, /users with a live legacy refresh family: 0 \(0 families\)/)
  t.match(done.stdout, /verdict: safe to retire: no live legacy refresh family \(set LEGACY_AUTH_ENABLED=false\)/)
})

t.test('a database that does not answer is one line, not a stack', async t => {
  const closed = `postgres://hallpass_app@127.0.0.1:${await freePort()}/nowhere`
  const down = runReport({ DATABASE_URL: closed })
  t.equal(down.status, 1)
  t.equal(down.stdout, '')
  t.equal(down.stderr.trim().split('\n').length, 1, `one line: ${down.stderr}`)
  t.match(down.stderr, /^legacy:report: .*ECONNREFUSED.*\[database 127\.0\.0\.1:\d+, Redis /)
  t.notMatch(down.stderr, /\n\s+at /)

  const url = new URL(TEST_DATABASE_URL)
  url.searchParams.set('search_path', `no_such_schema_${randomBytes(3).toString('hex')}`)
  const missing = runReport({ DATABASE_URL: url.toString() })
  t.equal(missing.status, 1)
  t.match(missing.stderr, /^legacy:report: relation "refresh_tokens" does not exist \(42P01\)/)
  t.equal(missing.stderr.trim().split('\n').length, 1, 'one line')
})
