// The audit queue is visible on /metrics: its length while rows wait, and every row it loses,
// counted once by why (queue full while Postgres fails, refused by Postgres, not written by
// shutdown, recorded after close).
import t from 'tap'
import { randomUUID } from 'node:crypto'
import pino from 'pino'
import { appSql, build } from './helper.js'
import { moved, scrape } from './metrics-helper.js'
import { createAuditLog } from '../src/audit/audit-log.js'
import { silentPostgresSql } from './fault-processes.js'
import { createSql } from '../src/infra/db.js'

const DEAD_DB = 'postgres://hallpass_app@127.0.0.1:1/hallpass_test'
const quiet = pino({ level: 'silent' })
const dropped = (reason: string) => ['hallpass_audit_dropped_total', { reason }] as const

t.test('the queue length while Postgres is down, and the oldest rows dropped past the bound', async t => {
  const app = await build(t)
  const dead = createSql(DEAD_DB, { max: 1, statementTimeoutMs: 1000 })
  t.teardown(() => dead.end({ timeout: 1 }))
  const before = await scrape(app)
  const audit = createAuditLog(dead, quiet, { maxQueued: 5, flushIntervalMs: 60_000, closeTimeoutMs: 200 })
  for (let i = 0; i < 8; i++) audit.record({ type: 'LOGIN_FAILURE', details: { i } })
  await t.rejects(audit.flush(), 'Postgres is down')
  const waiting = await scrape(app)
  t.equal(moved(before, waiting, 'hallpass_audit_queue_length'), 5, 'five rows wait')
  t.equal(moved(before, waiting, ...dropped('queue_full')), 3, 'three dropped, counted once each')
  await audit.close()
  const closed = await scrape(app)
  t.equal(moved(before, closed, 'hallpass_audit_queue_length'), 0, 'a closed writer leaves the gauge')
  t.equal(moved(waiting, closed, ...dropped('shutdown')), 5, 'the five never written at shutdown')
  audit.record({ type: 'LOGOUT' })
  t.equal(moved(closed, await scrape(app), ...dropped('after_close')), 1, 'a row recorded after close')
})

t.test('a row Postgres refuses counts as dropped; its batch lands and the queue empties', async t => {
  const app = await build(t)
  const before = await scrape(app)
  const audit = createAuditLog(appSql(t), quiet, { flushIntervalMs: 60_000 })
  t.teardown(() => audit.close())
  const userId = randomUUID()
  audit.record({ type: 'LOGIN_SUCCESS', userId, details: { n: 1 } })
  audit.record({ type: 'LOGIN_SUCCESS', userId, details: { 'bad\u0000key': 1 } }) // jsonb refuses \u0000
  t.equal(moved(before, await scrape(app), 'hallpass_audit_queue_length'), 2, 'two rows wait')
  await audit.flush()
  const after = await scrape(app)
  t.equal(moved(before, after, 'hallpass_audit_queue_length'), 0, 'written or dropped: none wait')
  t.equal(moved(before, after, ...dropped('refused')), 1, 'the refused row is counted')
  t.equal(moved(before, after, 'hallpass_audit_dropped_total'), 1, 'and nothing else')
})

t.test('close gives up on a Postgres that never answers: the rows it loses are counted', async t => {
  const app = await build(t)
  const sql = await silentPostgresSql(t)
  const before = await scrape(app)
  const audit = createAuditLog(sql, quiet, { closeTimeoutMs: 300, flushIntervalMs: 60_000 })
  audit.record({ type: 'LOGOUT', details: { n: 1 } })
  audit.record({ type: 'LOGOUT', details: { n: 2 } })
  await audit.close()
  t.equal(moved(before, await scrape(app), ...dropped('shutdown')), 2)
})
