// The server entry: a bad configuration exits 1 naming each bad variable, a failed migration
// exits 1, a port already taken exits 1 saying to set PORT, MIGRATE_ON_START migrates before
// listening, and the start summary says where everything is. (SIGTERM and graceful close:
// shutdown.test.ts; the development JWT secret: dev-secret.test.ts.)
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Env } from '../src/config/config.js'
import { freePort, testEnv, waitFor, TEST_DATABASE_URL } from './helper.js'

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')

interface Run { code: number | null; out: string }

/** starts src/server.ts; resolves when it exits, or stops it once `until` shows in its output */
async function runServer (env: Env, until?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, [`--import=${TSX}`, SERVER], {
    env: { ...process.env, ...testEnv({ LOG_LEVEL: 'info', MIGRATE_ON_START: 'false', ...env }) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  const exited = once(child, 'exit')
  if (until) {
    await Promise.race([waitFor(() => until.test(out), { timeoutMs: 60_000, intervalMs: 50, what: String(until) }), exited])
    child.kill('SIGTERM')
  }
  const [code] = await exited
  return { code, out }
}

t.test('an invalid configuration exits 1 and names the variable', async t => {
  const { code, out } = await runServer({ PORT: 'not-a-port', NEW_AUTH_PERCENTAGE: '250' })
  t.equal(code, 1)
  t.match(out, /hallpass: invalid configuration/)
  t.match(out, /PORT/)
  t.match(out, /NEW_AUTH_PERCENTAGE/)
})

t.test('a migration that cannot reach Postgres exits 1 without leaking the URL', async t => {
  const { code, out } = await runServer({ MIGRATE_ON_START: 'true', PORT: String(await freePort()), DATABASE_ADMIN_URL: 'postgres://postgres:pw-not-for-logs@127.0.0.1:1/hallpass_test' })
  t.equal(code, 1)
  t.match(out, /hallpass: migration failed/)
  t.notMatch(out, /pw-not-for-logs/)
})

t.test('a port already in use exits 1 with one line that says to set PORT, and no stack', async t => {
  const taken = createServer().listen(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => taken.close())
  const { port } = taken.address() as { port: number }
  const { code, out } = await runServer({ PORT: String(port), HOST: '127.0.0.1' })
  t.equal(code, 1)
  t.match(out, new RegExp(`hallpass: could not listen on 127\\.0\\.0\\.1:${port}: the port is already in use \\(EADDRINUSE\\); set PORT to a free one, e\\.g\\. PORT=${port + 1} npm start`))
  t.notMatch(out, /\n\s+at /, 'no stack trace')
})

t.test('the start summary: URL, mode, rollout and effective percentage, origins, where Redis and Postgres are, no password', async t => {
  const port = await freePort()
  const withPassword = new URL(TEST_DATABASE_URL)
  withPassword.password = 'pw-not-for-logs' // the test cluster trusts local logins, so any password works
  const { code, out } = await runServer({ PORT: String(port), NEW_AUTH_PERCENTAGE: '0', DATABASE_URL: withPassword.toString() }, /sessions for/)
  t.equal(code, 0)
  const line = out.split('\n').find(l => l.includes('sessions for'))
  const msg = JSON.parse(line ?? '{}').msg as string
  const db = new URL(TEST_DATABASE_URL)
  t.equal(msg, [
    `hallpass http://127.0.0.1:${port} (test)`,
    'sessions for 0 % of logins (NEW_AUTH_ENABLED=true, NEW_AUTH_PERCENTAGE=0, ROLLBACK_MODE=false), legacy JWTs for the rest',
    `ALLOWED_ORIGINS http://localhost:${port},http://127.0.0.1:${port}`,
    `Redis ${new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').host}`
  ].join(' · ') + ` (prefix ${/prefix (\S+)\)/.exec(msg)?.[1]})` + ` · Postgres ${db.host}${db.pathname}`)
  t.notMatch(out, /pw-not-for-logs/, 'no password anywhere in the output')
})
