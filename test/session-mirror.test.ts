// The Postgres mirror of sessions: a revocation sent while the creation is still on its way
// to Postgres must not be lost (the two writes travel on different pooled connections), and a
// write that fails while Postgres is down is retried until it lands.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { createSessionMirror } from '../src/auth/sessions/mirror.js'
import postgres from 'postgres'
import { adminSql, appSql, delay, uniqueEmail, waitFor } from './helper.js'
import { hasPostgresBinaries, startPostgres } from './fault-processes.js'

const ROUNDS = 60

t.test(`created then revoked at once: every revocation lands (${ROUNDS} rounds, varied timing)`, async t => {
  const sql = appSql(t, 4)
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
  const sql = postgres(pg.appUrl, { max: 2, onnotice: () => {}, connect_timeout: 2 })
  t.teardown(async () => { await sql.end({ timeout: 1 }); await admin.end({ timeout: 1 }) })
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
