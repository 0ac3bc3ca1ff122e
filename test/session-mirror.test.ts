// The Postgres mirror of sessions: a revocation sent while the creation is still on its way
// to Postgres must not be lost (the two writes travel on different pooled connections).
import t from 'tap'
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import type { FastifyBaseLogger } from 'fastify'
import { createSessionMirror } from '../src/auth/sessions/mirror.js'
import { adminSql, appSql, delay, uniqueEmail } from './helper.js'

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
