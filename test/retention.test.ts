// Retention jobs (issue 18, item 10): two app instances on one private Postgres and one Redis
// key prefix; the jobs run on exactly one of them, in batches, delete the rows past retention
// and keep the rows inside it. The app role cannot purge recent audit rows.
import t from 'tap'
import { randomBytes, randomUUID } from 'node:crypto'
import postgres from 'postgres'
import { build, delay, uniquePrefix } from './helper.js'
import { hasPostgresBinaries, startPostgres } from './fault-processes.js'

const BATCH = 2

t.test('two instances: the jobs run once per lock, delete past retention in batches, keep the rest', { skip: hasPostgresBinaries ? false : 'no Postgres server binaries (initdb, pg_ctl)' }, async t => {
  const pg = await startPostgres(t)
  const env = {
    DATABASE_URL: pg.appUrl,
    DATABASE_ADMIN_URL: pg.adminUrl,
    REDIS_KEY_PREFIX: uniquePrefix(),
    RETENTION_INTERVAL: '0',
    RETENTION_BATCH_SIZE: String(BATCH),
    AUDIT_RETENTION_DAYS: '365',
    SESSION_RETENTION_DAYS: '90',
    REFRESH_TOKEN_RETENTION_DAYS: '30'
  }
  const a = await build(t, env)
  const b = await build(t, env)
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} })
  t.teardown(() => admin.end())
  const userId = randomUUID()
  await admin`insert into users (id, email, password_hash) values (${userId}, ${`retention-${userId}@example.test`}, 'x')`

  /** n rows of each table past retention, and the rows just inside it; returns how many are past */
  const seed = async (n: number): Promise<number> => {
    for (let i = 0; i < n; i++) {
      await admin`insert into refresh_tokens (token_hash, family_id, user_id, expires_at) values
        (${randomBytes(32)}, ${randomUUID()}, ${userId}, now() - interval '31 days')`
      await admin`insert into jwt_deny_list (jti, user_id, expires_at) values (${randomUUID()}, ${userId}, now() - interval '2 hours')`
      await admin`insert into user_sessions (public_id, user_id, expires_at, revoked_at) values
        (${randomBytes(16).toString('base64url')}, ${userId}, now() + interval '1 day', now() - interval '91 days')`
      await admin`insert into audit_logs (type, user_id, created_at) values ('LOGIN_SUCCESS', ${userId}, now() - interval '366 days')`
    }
    return n
  }
  // inside retention: each just on the kept side of its limit
  await admin`insert into refresh_tokens (token_hash, family_id, user_id, expires_at, revoked_at) values
    (${randomBytes(32)}, ${randomUUID()}, ${userId}, now() - interval '29 days', null),
    (${randomBytes(32)}, ${randomUUID()}, ${userId}, now() + interval '29 days', now() - interval '29 days'),
    (${randomBytes(32)}, ${randomUUID()}, ${userId}, now() + interval '30 days', null)`
  await admin`insert into jwt_deny_list (jti, user_id, expires_at) values (${'kept-recent'}, ${userId}, now() - interval '10 minutes'), (${'kept-live'}, ${userId}, now() + interval '10 minutes')`
  await admin`insert into user_sessions (public_id, user_id, expires_at, revoked_at) values
    (${'kept-revoked'}, ${userId}, now() + interval '1 day', now() - interval '89 days'),
    (${'kept-expired'}, ${userId}, now() - interval '89 days', null),
    (${'kept-live'}, ${userId}, now() + interval '1 day', null)`
  await admin`insert into audit_logs (type, user_id, created_at) values ('LOGIN_SUCCESS', ${userId}, now() - interval '364 days')`

  const counts = async () => (await admin<{ rt: number; deny: number; us: number; audit: number }[]>`
    select (select count(*)::int from refresh_tokens) as rt, (select count(*)::int from jwt_deny_list) as deny,
           (select count(*)::int from user_sessions) as us, (select count(*)::int from audit_logs where user_id = ${userId}) as audit`)[0]!

  // rounds with varied timing: each time exactly one instance runs and deletes every row past retention
  for (let round = 0; round < 5; round++) {
    const past = await seed(BATCH * 2 + round) // more than one batch
    await a.redis.del(`${env.REDIS_KEY_PREFIX}{retention}:lock`) // as if the interval had passed
    const [ra, rb] = await Promise.all([
      delay(Math.floor(Math.random() * 5)).then(() => a.retention.runOnce()),
      delay(Math.floor(Math.random() * 5)).then(() => b.retention.runOnce())
    ])
    t.equal(Number(ra.ran) + Number(rb.ran), 1, `round ${round}: one instance ran`)
    const run = ra.ran ? ra : rb
    t.same(run.deleted, { refresh_tokens: past, jwt_deny_list: past, user_sessions: past, audit_logs: past }, `round ${round}: every row past retention, in batches of ${BATCH}`)
    t.same(await counts(), { rt: 3, deny: 2, us: 3, audit: 1 }, `round ${round}: the rows inside retention are kept`)
  }

  // while the lock holds (one interval), neither instance runs again
  await seed(1)
  const again = await Promise.all([a.retention.runOnce(), b.retention.runOnce()])
  t.same(again.map(r => r.ran), [false, false], 'the lock outlives the run: once per interval across instances')
  t.same(await counts(), { rt: 4, deny: 3, us: 4, audit: 2 }, 'nothing deleted by a skipped run')

  const metrics = await a.ops.metricsText()
  t.match(metrics, /hallpass_retention_rows_deleted_total\{table="audit_logs"\} \d+/)
  t.match(metrics, /hallpass_retention_runs_total\{outcome="skipped"\} \d+/)

  const app = postgres(pg.appUrl, { max: 1, onnotice: () => {} })
  t.teardown(() => app.end())
  await t.rejects(app`select purge_audit_logs(1, 1000)`, /kept at least 30 days/, 'the app role cannot purge recent audit rows')
  await t.rejects(app`delete from audit_logs`, /permission denied/, 'nor delete audit rows directly')
})
