// SIGTERM while Postgres is down, with audit rows queued: the server process exits 0 within
// the grace period. If Postgres returns within the grace, every queued audit row is written;
// if it does not, the rows cannot be written and the log says how many were lost.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { freePort, testEnv, uniqueEmail, waitFor } from './helper.js'
import { ORIGIN, PASSWORD, UA_CHROME, UA_FIREFOX } from './auth-helper.js'
import { hasPostgresBinaries, startPostgres, type PostgresProcess } from './fault-processes.js'

const USERS = 30

async function startServer (t: Test, pg: PostgresProcess) {
  const port = await freePort()
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      ...testEnv({ PORT: String(port), LOG_LEVEL: 'info', MIGRATE_ON_START: 'false', DATABASE_URL: pg.appUrl, DATABASE_ADMIN_URL: pg.adminUrl, RATE_LIMIT_LOGIN: '100000/15m', ALLOWED_ORIGINS: ORIGIN })
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  await waitFor(() => /Server listening/.test(out), { timeoutMs: 60_000, intervalMs: 50, what: 'the server listening' })
  return { base: `http://127.0.0.1:${port}`, child, output: () => out }
}

/**
 * registers USERS users (sessions), stops Postgres, then uses each session from another browser:
 * the sessions still validate (Redis), and each use queues one SESSION_ANOMALY audit row that
 * cannot be written until Postgres returns. (A logout no longer queues rows: its revocation is
 * committed in Postgres first, so with Postgres down it answers 503.)
 */
async function anomaliesWhilePostgresIsDown (base: string, pg: PostgresProcess): Promise<number> {
  const cookies: string[] = []
  for (let i = 0; i < USERS; i++) { // one at a time: a burst of argon2 hashes is not the subject here
    const res = await fetch(`${base}/api/auth/register`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'user-agent': UA_FIREFOX, 'content-type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail('shutdown'), password: PASSWORD })
    })
    if (res.status !== 201) throw new Error(`register: ${res.status}`)
    cookies.push(res.headers.getSetCookie()[0]!.split(';')[0]!)
  }
  // the registrations' own rows are written first, so the rows left at shutdown are exactly the anomalies
  const written = (type: string): number => Number(pg.psql(`select count(*) from audit_logs where type = '${type}'`))
  await waitFor(() => written('USER_REGISTERED') === USERS && written('LOGIN_SUCCESS') === USERS, { timeoutMs: 20_000, intervalMs: 200, what: 'the registrations audited' })
  await pg.stopImmediate()
  const answers = await Promise.all(cookies.map(cookie => fetch(`${base}/api/auth/me`, {
    headers: { cookie, 'user-agent': UA_CHROME }
  }).then(r => r.status)))
  return answers.filter(s => s === 200).length
}

const anomalyRows = (pg: PostgresProcess): number => Number(pg.psql("select count(*) from audit_logs where type = 'SESSION_ANOMALY'"))

t.test('SIGTERM with Postgres down, back within the grace: exit 0 in 10 s, no audit row lost', { skip: !hasPostgresBinaries && 'no Postgres server binaries' }, async t => {
  const pg = await startPostgres(t)
  const server = await startServer(t, pg)
  const used = await anomaliesWhilePostgresIsDown(server.base, pg)
  t.equal(used, USERS, 'every session answered while Postgres was down (sessions live in Redis)')

  const signalled = Date.now()
  server.child.kill('SIGTERM')
  await new Promise(resolve => setTimeout(resolve, 2000))
  await pg.start()
  const [code] = await once(server.child, 'exit')
  const took = Date.now() - signalled
  t.equal(code, 0, 'exit 0')
  t.ok(took < 10_000, `exited in ${took} ms, within the 10 s grace`)
  t.equal(anomalyRows(pg), USERS, `${USERS} of ${USERS} SESSION_ANOMALY audit rows written`)
  t.notMatch(server.output(), /rows not written at shutdown/)
})

t.test('SIGTERM with Postgres down for good: exit 0 in 10 s, the lost rows counted in the log', { skip: !hasPostgresBinaries && 'no Postgres server binaries' }, async t => {
  const pg = await startPostgres(t)
  const server = await startServer(t, pg)
  const used = await anomaliesWhilePostgresIsDown(server.base, pg)
  t.equal(used, USERS)

  const signalled = Date.now()
  server.child.kill('SIGTERM')
  const [code] = await once(server.child, 'exit')
  const took = Date.now() - signalled
  t.equal(code, 0, 'exit 0')
  t.ok(took < 10_000, `exited in ${took} ms, within the 10 s grace`)
  const line = server.output().split('\n').find(l => l.includes('audit: rows not written at shutdown'))
  t.ok(line, 'the loss is logged')
  t.equal((JSON.parse(line ?? '{}') as { lost?: number }).lost, USERS, `the log counts the ${USERS} rows not written`)
  await pg.start()
  t.equal(anomalyRows(pg), 0, 'and indeed none was written')
})
