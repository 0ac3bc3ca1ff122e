// SIGTERM: stop accepting, finish what is in flight, close Redis and Postgres, exit 0 in 10 s.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { freePort, testEnv, waitFor } from './helper.js'

t.test('SIGTERM closes gracefully with exit 0', async t => {
  const port = String(await freePort())
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: { ...process.env, ...testEnv({ PORT: port, LOG_LEVEL: 'info', MIGRATE_ON_START: 'false' }) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  await waitFor(() => /Server listening/.test(out), { timeoutMs: 60_000, intervalMs: 50, what: 'the server listening' }).catch(() => {})
  t.match(out, /Server listening/, 'started')

  const inFlight = fetch(`http://127.0.0.1:${port}/api/health/ready`)
  // signal only once the server has the request (a loaded machine may take a while to deliver it)
  await waitFor(() => out.includes('"url":"/api/health/ready"'), { timeoutMs: 30_000, intervalMs: 1, what: 'the request logged' })
  const started = Date.now()
  child.kill('SIGTERM')
  const res = await inFlight
  t.equal(res.status, 200, 'the request in flight completes')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
  t.ok(Date.now() - started < 10_000, 'within 10 s')
  t.match(out, /closing/)
  await t.rejects(fetch(`http://127.0.0.1:${port}/api/health`), 'no longer accepting')
})
