// The server entry: a bad configuration exits 1 naming each bad variable, a failed migration
// exits 1, a port already taken exits 1, and MIGRATE_ON_START migrates before listening.
// (SIGTERM and graceful close: shutdown.test.ts.)
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import type { Env } from '../src/config/config.js'
import { freePort, testEnv, waitFor } from './helper.js'

interface Run { code: number | null; out: string }

/** starts src/server.ts; resolves when it exits, or stops it once `until` shows in its output */
async function runServer (env: Env, until?: RegExp): Promise<Run> {
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], {
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

t.test('a port already in use exits 1', async t => {
  const taken = createServer().listen(0, '127.0.0.1')
  await once(taken, 'listening')
  t.teardown(() => taken.close())
  const { port } = taken.address() as { port: number }
  const { code, out } = await runServer({ PORT: String(port), HOST: '127.0.0.1' })
  t.equal(code, 1)
  t.match(out, /could not listen/)
  t.match(out, /EADDRINUSE/)
})

t.test('MIGRATE_ON_START on a migrated database runs nothing and starts', async t => {
  const { code, out } = await runServer({ MIGRATE_ON_START: 'true', PORT: String(await freePort()) }, /Server listening/)
  t.match(out, /Server listening/)
  t.notMatch(out, /hallpass: migrated/, 'nothing left to migrate')
  t.equal(code, 0, 'and SIGTERM closes it cleanly')
})
