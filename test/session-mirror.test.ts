// The Postgres mirror of sessions: a revocation sent while the creation is still on its way
// to Postgres must not be lost (the two writes travel on different pooled connections), and a
// write that fails while Postgres is down is retried until it lands, a backlog of them a few at
// a time, so the retries never crowd out the requests.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { createSessionMirror } from '../src/auth/sessions/mirror.js'
import postgres from 'postgres'
import type { Test } from 'tap'
import { createSql, type Sql } from '../src/infra/db.js'
import { createDbGuard } from '../src/infra/db-guard.js'
import { TEST_DATABASE_URL, adminSql, delay, uniqueEmail, waitFor } from './helper.js'
import { hasPostgresBinaries, startPostgres } from './fault-processes.js'

const ROUNDS = 60

/** the pool as the app builds it (createSql: no array-type lookup, statement timeout) */
function appPool (t: Test, url: string, max: number): Sql {
  const sql = createSql(url, { max, statementTimeoutMs: 5000, connectTimeoutS: 2 })
  t.teardown(() => sql.end({ timeout: 1 }))
  return sql
}

t.test(`created then revoked at once: every revocation lands (${ROUNDS} rounds, varied timing)`, async t => {
  const sql = appPool(t, TEST_DATABASE_URL, 4)
  const admin = adminSql(t)
  const [user] = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('mirror')}, 'not-a-hash') returning id`
  const mirror = createSessionMirror(sql, pino({ level: 'silent' }) as unknown as FastifyBaseLogger)
  t.teardown(() => mirror.close())

  const ids: string[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const publicId = randomBytes(16).toString('base64url')
    ids.push(publicId)
    const now = Date.now()
    mirror.created({ publicId, userId: user!.id, createdAt: now, expiresAt: now + 60_000, device: { browser: 'Firefox', os: 'Linux', type: 'desktop' }, ip: '127.0.0.1', userAgent: 'test' })
    // the gap varies: none, a microtask turn, an event-loop turn, a short timer
    if (i % 4 === 1) await Promise.resolve()
    if (i % 4 === 2) await new Promise(resolve => setImmediate(resolve))
    if (i % 4 === 3) await delay(1)
    mirror.revoked(user!.id, [publicId], 'revoked')
  }
  await mirror.flush()
  const [counts] = await admin<{ n: number; revoked: number }[]>`
    select count(*)::int as n, (count(*) filter (where revoked_reason = 'revoked'))::int as revoked
    from user_sessions where public_id = any(${ids}::text[])`
  t.same(counts, { n: ROUNDS, revoked: ROUNDS }, `${counts!.revoked} of ${counts!.n} mirrored sessions carry their revocation`)
})

t.test('writes that fail while Postgres is down are kept and land when it returns', { skip: !hasPostgresBinaries && 'no Postgres server binaries' }, async t => {
  const pg = await startPostgres(t, { database: 'mirror_retry' })
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} })
  const sql = appPool(t, pg.appUrl, 2)
  t.teardown(() => admin.end({ timeout: 1 }))
  const [user] = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('mirror-retry')}, 'not-a-hash') returning id`
  const ids = Array.from({ length: 20 }, () => randomBytes(16).toString('base64url'))
  await admin`insert into user_sessions (public_id, user_id, expires_at) select id, ${user!.id}, now() + interval '1 hour' from unnest(${ids}::text[]) as id`
  const mirror = createSessionMirror(sql, pino({ level: 'silent' }) as unknown as FastifyBaseLogger)
  t.teardown(() => mirror.close())

  await pg.stopImmediate()
  mirror.revoked(user!.id, ids, 'evicted')
  await delay(3000) // past the 2 s connect timeout: the write has failed
  t.equal(mirror.pending, 1, 'the failed write is kept for retry')
  await pg.start()
  await waitFor(async () => { await mirror.flush(); return mirror.pending === 0 }, { timeoutMs: 20_000, intervalMs: 200, what: 'the kept write retried' })
  const [counts] = await admin<{ revoked: number }[]>`select (count(*) filter (where revoked_reason = 'evicted'))::int as revoked from user_sessions where public_id = any(${ids}::text[])`
  t.equal(counts!.revoked, ids.length, `${counts!.revoked} of ${ids.length} revocations written after Postgres came back`)
})

t.test('a backlog kept through an outage lands soon after Postgres returns, without reopening its breaker', { skip: !hasPostgresBinaries && 'no Postgres server binaries' }, async t => {
  const BACKLOG = 5000
  const pg = await startPostgres(t, { database: 'mirror_backlog' })
  const admin = postgres(pg.adminUrl, { max: 1, onnotice: () => {} })
  // the app's pool as the app builds it: two connections, a 1 s deadline per query, the breaker
  const opened: number[] = []
  const guard = createDbGuard({ deadlineMs: 1000, poolMax: 2, onStateChange: open => { if (open) opened.push(Date.now()) } })
  const raw = createSql(pg.appUrl, { max: 2, statementTimeoutMs: 1000, connectTimeoutS: 1 })
  const sql = guard.wrap(raw)
  t.teardown(async () => { await raw.end({ timeout: 1 }); await admin.end({ timeout: 1 }) })
  const [user] = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('mirror-backlog')}, 'not-a-hash') returning id`
  const mirror = createSessionMirror(sql, pino({ level: 'silent' }) as unknown as FastifyBaseLogger)
  t.teardown(() => mirror.close())

  await pg.stopImmediate()
  // one eviction write per session, as logins past the per-user limit would send them
  const ids = Array.from({ length: BACKLOG }, () => randomBytes(16).toString('base64url'))
  for (const id of ids) mirror.revoked(user!.id, [id], 'evicted')
  await waitFor(() => mirror.pending >= BACKLOG, { timeoutMs: 10_000, what: 'every write failed and was kept' })
  await pg.start()
  const backAt = Date.now()

  // a live request's read, every 100 ms, beside the retries: it must not be refused because of them
  let refusedReads = 0
  let reads = 0
  const reader = setInterval(() => {
    reads++
    sql`select 1`.catch(() => { if (Date.now() - backAt > 3000) refusedReads++ })
  }, 100)
  t.teardown(() => clearInterval(reader))
  const landed = await waitFor(async () => {
    const [row] = await admin<{ n: number }[]>`select count(*)::int as n from user_sessions where revoked_reason = 'evicted'`
    return row!.n === BACKLOG
  }, { timeoutMs: 15_000, intervalMs: 250, what: 'the backlog written' }).then(() => true, () => false)
  clearInterval(reader)
  const [written] = await admin<{ n: number }[]>`select count(*)::int as n from user_sessions where revoked_reason = 'evicted'`
  t.comment(`written: ${written!.n}, still pending in the mirror: ${mirror.pending}`)
  t.ok(landed, `all ${BACKLOG} kept writes landed within 15 s of Postgres returning (took ${Date.now() - backAt} ms)`)
  t.same(opened.filter(at => at > backAt + 1500), [], 'the breaker did not reopen once Postgres answered')
  t.equal(refusedReads, 0, `no read beside the retries was refused 3 s after Postgres returned (${reads} sent)`)
})

t.test('a session\'s slide reaches Postgres: last seen and idle expiry move forward, never past the absolute expiry', async t => {
  const sql = appPool(t, TEST_DATABASE_URL, 2)
  const admin = adminSql(t)
  const [user] = await admin<{ id: string }[]>`insert into users (email, password_hash) values (${uniqueEmail('mirror-seen')}, 'not-a-hash') returning id`
  const [slid, capped] = [randomBytes(16).toString('base64url'), randomBytes(16).toString('base64url')]
  const start = Date.parse('2026-01-01T00:00:00Z')
  await admin`insert into user_sessions (public_id, user_id, created_at, last_seen_at, idle_expires_at, expires_at)
    values (${slid}, ${user!.id}, ${new Date(start)}, ${new Date(start)}, ${new Date(start + 60_000)}, ${new Date(start + 3_600_000)}),
           (${capped}, ${user!.id}, ${new Date(start)}, ${new Date(start)}, ${new Date(start + 60_000)}, ${new Date(start + 90_000)})`
  const mirror = createSessionMirror(sql, pino({ level: 'silent' }) as unknown as FastifyBaseLogger)
  t.teardown(() => mirror.close())
  mirror.seen(slid, start + 30_000, start + 90_000)
  mirror.seen(capped, start + 30_000, start + 150_000)
  await mirror.flush()
  t.equal(mirror.pending, 0, 'nothing kept for retry')
  const rows = await admin<{ public_id: string, last_seen_at: Date, idle_expires_at: Date }[]>`
    select public_id, last_seen_at, idle_expires_at from user_sessions where public_id in (${slid}, ${capped})`
  const byId = new Map(rows.map(r => [r.public_id, r]))
  t.equal(byId.get(slid)?.last_seen_at.getTime(), start + 30_000, 'last seen written')
  t.equal(byId.get(slid)?.idle_expires_at.getTime(), start + 90_000, 'the idle expiry slid')
  t.equal(byId.get(capped)?.idle_expires_at.getTime(), start + 90_000, 'never past the absolute expiry')
})
