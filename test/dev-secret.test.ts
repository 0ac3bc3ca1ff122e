// A development server keeps its JWT secret in .data/ across restarts (npm run dev restarts on
// every save), so legacy tokens outlive them; a test or production server never writes one.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Env } from '../src/config/config.js'
import { deleteRedisPrefix, freePort, testConfig, testEnv, uniquePrefix, waitFor } from './helper.js'

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url))
// absolute, so a server started in another working directory still finds tsx
const TSX = import.meta.resolve('tsx')

t.test('development: the JWT secret is kept in .data/ across restarts, so legacy tokens outlive them', async t => {
  const cwd = mkdtempSync(join(tmpdir(), 'hallpass-dev-'))
  const prefix = uniquePrefix()
  t.teardown(async () => {
    rmSync(cwd, { recursive: true, force: true })
    await deleteRedisPrefix(testConfig({ REDIS_KEY_PREFIX: prefix }))
  })
  const port = await freePort()
  // at 0 % every login gets legacy tokens; no secret set, as on a newcomer's machine
  const env = { NODE_ENV: 'development', JWT_ACCESS_SECRET: '', NEW_AUTH_PERCENTAGE: '0', PORT: String(port), REDIS_KEY_PREFIX: prefix, DOCS_ENABLED: 'false' }
  const base = `http://127.0.0.1:${port}`
  const email = `dev-secret-${Date.now()}@example.test`

  let token = ''
  const first = await runServerWhile(env, cwd, async () => {
    const res = await fetch(`${base}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'a long enough passphrase 2026' }) })
    t.equal(res.status, 201)
    const body = await res.json() as { auth: { mode: string; accessToken: string } }
    t.equal(body.auth.mode, 'legacy')
    token = body.auth.accessToken
    t.equal((await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
  })
  t.match(first, /using the development secret kept in/)
  t.equal(statSync(join(cwd, '.data', 'dev-jwt-secret')).mode & 0o777, 0o600, 'readable by its owner only')

  await runServerWhile(env, cwd, async () => {
    const me = await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })
    t.equal(me.status, 200, 'the token issued before the restart is still accepted')
  })

  // never outside development: a test server generates its own and writes nothing
  const other = mkdtempSync(join(tmpdir(), 'hallpass-dev-'))
  t.teardown(() => rmSync(other, { recursive: true, force: true }))
  await runServerWhile({ ...env, NODE_ENV: 'test' }, other, async () => {})
  t.throws(() => statSync(join(other, '.data')), { code: 'ENOENT' }, 'no .data/ outside development')
})

/** starts the server in `cwd`, runs `during` once it has printed its summary, stops it; returns its output */
async function runServerWhile (env: Env, cwd: string, during: () => Promise<void>): Promise<string> {
  const child = spawn(process.execPath, [`--import=${TSX}`, SERVER], {
    env: { ...process.env, ...testEnv({ LOG_LEVEL: 'info', MIGRATE_ON_START: 'false', ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd
  })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  const exited = once(child, 'exit')
  try {
    await Promise.race([waitFor(() => /sessions for/.test(out), { timeoutMs: 60_000, intervalMs: 50, what: 'the start summary' }), exited.then(() => { throw new Error(`the server exited:\n${out}`) })])
    await during()
  } finally {
    child.kill('SIGTERM')
    await exited
  }
  return out
}
