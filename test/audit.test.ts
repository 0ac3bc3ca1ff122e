// Audit rows are queued on the response path and written in batches: what Postgres holds
// afterwards, that a dead Postgres neither blocks record() nor hangs close(), and that
// close() writes the queue before the db plugin ends the pool.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { build, adminSql, appSql, waitFor } from './helper.js'
import { createAuditLog } from '../src/audit/audit-log.js'
import { silentPostgresSql } from './fault-processes.js'
import { createSql } from '../src/infra/db.js'

const DEAD_DB = 'postgres://hallpass_app:pw-not-for-logs@127.0.0.1:1/hallpass_test'

function captureLog (level = 'warn'): { logger: pino.Logger; lines: () => string } {
  const out: string[] = []
  const logger = pino({ level }, { write: (line: string) => { out.push(line) } })
  return { logger, lines: () => out.join('') }
}

t.test('rows land with their columns; bad values become null instead of failing the batch', async t => {
  const app = await build(t)
  const admin = adminSql(t)
  const userId = randomUUID()

  app.audit.record({ type: 'LOGIN_SUCCESS', userId, sessionPublicId: 'pub-1', ip: '203.0.113.7', userAgent: 'Mozilla/5.0 test', details: { method: 'password', nested: { attempts: 1 } } })
  app.audit.record({ type: 'LOGIN_FAILURE', userId, ip: 'not-an-ip', userAgent: 'x'.repeat(600), details: { note: 'nul\u0000byte \ud83d' } })
  app.audit.record({ type: 'SESSION_ANOMALY', userId, ip: 'fe80::1%eth0' })
  const marker = randomUUID()
  app.audit.record({ type: 'LOGOUT', userId: 'not-a-uuid', details: { marker } })
  await app.audit.flush()

  const rows = await admin`
    select type, user_id, session_public_id, host(ip) as ip, length(user_agent) as ua_len,
      jsonb_typeof(details) as kind, details
    from audit_logs where user_id = ${userId} order by id`
  t.equal(rows.length, 3)
  t.same(rows[0], {
    type: 'LOGIN_SUCCESS',
    user_id: userId,
    session_public_id: 'pub-1',
    ip: '203.0.113.7',
    ua_len: 16,
    kind: 'object',
    details: { method: 'password', nested: { attempts: 1 } }
  }, 'details is a jsonb object, not a string')
  t.equal(rows[1]!.ip, null, 'an invalid ip is stored as null')
  t.equal(rows[1]!.ua_len, 512, 'the user agent is cut to 512 chars')
  t.same(rows[1]!.details, { note: 'nulbyte \ufffd' }, 'NUL and a lone surrogate cannot poison the batch')
  t.equal(rows[2]!.ip, 'fe80::1', 'the zone id is dropped')
  t.same(rows[2]!.details, {})

  const [bad] = await admin`select user_id, details from audit_logs where details->>'marker' = ${marker}`
  t.same(bad, { user_id: null, details: { marker, invalidUserId: 'not-a-uuid' } }, 'a malformed user id is kept in details, not cast')
})

t.test('a burst of 500 rows lands in few INSERTs, each row once', async t => {
  const app = await build(t)
  const admin = adminSql(t)
  const userId = randomUUID()
  for (let i = 0; i < 500; i++) app.audit.record({ type: 'SESSION_ANOMALY', userId, details: { i } })
  await app.audit.flush()
  // rows written by one statement share its transaction id (xmin)
  const [r] = await admin`
    select count(*)::int as n, count(distinct details->>'i')::int as distinct_i, count(distinct xmin::text)::int as statements
    from audit_logs where user_id = ${userId}`
  t.equal(r!.n, 500)
  t.equal(r!.distinct_i, 500)
  t.ok(r!.statements <= 2, `written by ${r!.statements} INSERT(s)`)
})

t.test('the timer writes without an explicit flush', async t => {
  const app = await build(t)
  const admin = adminSql(t)
  const userId = randomUUID()
  app.audit.record({ type: 'LOGIN_SUCCESS', userId })
  const count = async (): Promise<number> =>
    (await admin<{ n: number }[]>`select count(*)::int as n from audit_logs where user_id = ${userId}`)[0]!.n
  const n = await waitFor(count, { timeoutMs: 2000, intervalMs: 50, what: 'the timer wrote the row' }).catch(() => 0)
  t.equal(n, 1, 'written within 2 s by the 250 ms timer')
})

t.test('concurrent flushes never write a row twice', async t => {
  const app = await build(t)
  const admin = adminSql(t)
  const userId = randomUUID()
  const flushes: Promise<void>[] = []
  for (let i = 0; i < 60; i++) {
    app.audit.record({ type: 'LOGIN_FAILURE', userId, details: { i } })
    if (i % 10 === 0) flushes.push(app.audit.flush())
  }
  flushes.push(app.audit.flush(), app.audit.flush())
  await Promise.all(flushes)
  const [r] = await admin`select count(*)::int as n, count(distinct details->>'i')::int as d from audit_logs where user_id = ${userId}`
  t.same(r, { n: 60, d: 60 })
})

t.test('close writes the queue before the db plugin ends the pool', async t => {
  const app = await build(t)
  const admin = adminSql(t)
  const userId = randomUUID()
  app.audit.record({ type: 'LOGOUT', userId, details: { at: 'close' } })
  await app.close() // no flush: the onClose hook must write it while the pool is still open
  const rows = await admin`select type, details from audit_logs where user_id = ${userId}`
  t.same(rows, [{ type: 'LOGOUT', details: { at: 'close' } }])
})

t.test('with Postgres unreachable, record() returns at once and close() ends in bounded time', async t => {
  const out: string[] = []
  const app = await build(t, { DATABASE_URL: DEAD_DB, LOG_LEVEL: 'warn', SHUTDOWN_TIMEOUT: '6s' }, { logStream: { write: (l: string) => { out.push(l) } } })
  const started = performance.now()
  const returned = new Set<unknown>()
  for (let i = 0; i < 300; i++) returned.add(app.audit.record({ type: 'LOGIN_FAILURE', ip: '198.51.100.1', details: { i } }))
  t.ok(performance.now() - started < 200, '300 records queue without waiting for Postgres')
  t.same([...returned], [undefined], 'record() is synchronous: no promise to await')
  await t.rejects(app.audit.flush(), { code: 'ECONNREFUSED' }, 'an explicit flush reports the failure')
  const attempts = out.join('').match(/write failed/g)?.length ?? 0
  t.ok(attempts <= 2, `a burst past the batch size made ${attempts} write attempt(s), not one per record`)

  const closing = Date.now()
  await app.close()
  t.ok(Date.now() - closing < 5000, `close took ${Date.now() - closing} ms`)
  const log = out.join('')
  t.match(log, /write failed; rows kept for retry/)
  t.match(log, /"lost":300.*rows not written at shutdown/, 'the unwritten rows are named in the last log line')
  t.notMatch(log, /pw-not-for-logs/, 'no credential in the log')
})

t.test('while Postgres fails, rows are kept up to the bound and then the oldest dropped', async t => {
  const dead = createSql(DEAD_DB, { max: 1, statementTimeoutMs: 1000 })
  t.teardown(() => dead.end({ timeout: 1 }))
  const { logger, lines } = captureLog()
  const audit = createAuditLog(dead, logger, { maxQueued: 5, flushIntervalMs: 60_000 })
  t.teardown(() => audit.close())
  for (let i = 0; i < 8; i++) audit.record({ type: 'LOGIN_FAILURE', details: { i } })
  t.equal(audit.pending(), 5)
  await t.rejects(audit.flush())
  t.equal(audit.pending(), 5, 'the failed batch is kept for the retry')
  t.match(lines(), /"dropped":3.*dropped the oldest rows/)

  // the same bound against the real database: the newest five land
  const sql = appSql(t)
  const admin = adminSql(t)
  const live = createAuditLog(sql, captureLog().logger, { maxQueued: 5, flushIntervalMs: 60_000 })
  const userId = randomUUID()
  for (let i = 0; i < 8; i++) live.record({ type: 'LOGIN_FAILURE', userId, details: { i } })
  await live.flush()
  await live.close()
  const rows = await admin<{ i: string }[]>`select details->>'i' as i from audit_logs where user_id = ${userId} order by id`
  t.same(rows.map(r => r.i), ['3', '4', '5', '6', '7'])
})

t.test('a row Postgres refuses is dropped alone; the rest of its batch lands', async t => {
  const sql = appSql(t)
  const admin = adminSql(t)
  const { logger, lines } = captureLog('error')
  const audit = createAuditLog(sql, logger, { flushIntervalMs: 60_000 })
  t.teardown(() => audit.close())
  const userId = randomUUID()
  audit.record({ type: 'LOGIN_SUCCESS', userId, details: { n: 1 } })
  audit.record({ type: 'LOGIN_SUCCESS', userId, details: { 'bad\u0000key': 1 } }) // jsonb refuses \u0000
  audit.record({ type: 'LOGIN_SUCCESS', userId, details: { n: 3 } })
  await audit.flush()
  t.equal(audit.pending(), 0, 'nothing left to retry forever')
  const rows = await admin`select details from audit_logs where user_id = ${userId} order by id`
  t.same(rows.map(r => r.details), [{ n: 1 }, { n: 3 }])
  t.match(lines(), /row refused by Postgres; dropped/)
})

t.test('close gives up after its timeout when Postgres accepts but never answers', async t => {
  // a listener that takes the connection and stays silent, like a host behind a dead link
  const sql = await silentPostgresSql(t)
  const { logger, lines } = captureLog('error')
  const audit = createAuditLog(sql, logger, { closeTimeoutMs: 300, flushIntervalMs: 60_000 })
  audit.record({ type: 'LOGOUT', details: { n: 1 } })
  const started = Date.now()
  await audit.close()
  t.ok(Date.now() - started < 1500, `close returned after ${Date.now() - started} ms`)
  t.match(lines(), /"outcome":"timed out".*"lost":1.*rows not written at shutdown/)
})
