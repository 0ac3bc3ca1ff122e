// SIGTERM with price sockets open: each is closed 1001 (going away) and the server still exits
// 0 within its grace period.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { testEnv, uniqueEmail } from './helper.js'
import { ORIGIN, PASSWORD, UA_FIREFOX } from './auth-helper.js'
import { connect } from './ws-helper.js'

t.test('SIGTERM closes price sockets with 1001 and exits 0 in time', async t => {
  const port = String(20000 + Math.floor(Math.random() * 20000))
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], {
    env: { ...process.env, ...testEnv({ PORT: port, LOG_LEVEL: 'info', MIGRATE_ON_START: 'false', PRICE_TICK_MS: '50', ALLOWED_ORIGINS: ORIGIN }) },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', d => { out += d })
  child.stderr.on('data', d => { out += d })
  const deadline = Date.now() + 20_000
  while (!/Server listening/.test(out) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
  t.match(out, /Server listening/, 'started')

  const res = await fetch(`http://127.0.0.1:${port}/api/auth/register`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'user-agent': UA_FIREFOX, 'content-type': 'application/json' },
    body: JSON.stringify({ email: uniqueEmail('ws'), password: PASSWORD })
  })
  t.equal(res.status, 201)
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!
  const sockets = [0, 1, 2].map(() => connect(`ws://127.0.0.1:${port}/ws/prices`, { cookie, origin: ORIGIN, 'user-agent': UA_FIREFOX }))
  for (const s of sockets) {
    await s.next(f => f.type === 'ready')
    s.send({ type: 'subscribe', symbols: ['AAPL'] })
  }
  await sockets[0]!.next(f => f.type === 'price')

  const started = Date.now()
  child.kill('SIGTERM')
  const closes = await Promise.all(sockets.map(s => s.closed))
  t.same(closes.map(c => c.code), [1001, 1001, 1001], 'every socket closed 1001')
  const [code] = await once(child, 'exit')
  t.equal(code, 0, 'exit 0')
  t.ok(Date.now() - started < 10_000, `exited ${Date.now() - started} ms after SIGTERM, within the 10 s grace`)
})
