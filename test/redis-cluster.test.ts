// The session store, the deny list, rate limits and the near cache on a real Redis Cluster
// (three masters started for this test on free local ports): every multi-key script must stay
// in one hash slot, or Redis answers CROSSSLOT.
import t from 'tap'
import type { Test } from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build, freePort, waitFor } from './helper.js'
import { browser, login, me, register } from './auth-helper.js'
import { bearer, legacyLogin, refresh } from './legacy-helper.js'

const hasRedis = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0

async function startCluster (t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-cluster-'))
  const ports: number[] = []
  const procs: ChildProcess[] = []
  t.teardown(() => {
    for (const p of procs) p.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })
  for (let i = 0; i < 3; i++) {
    // cluster bus port = port + 10000: keep ports low enough for that
    let port = await freePort()
    while (port > 55000) port = await freePort()
    ports.push(port)
    procs.push(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' }))
  }
  for (const port of ports) {
    await waitFor(() => spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG', { intervalMs: 100, what: `redis-server on ${port}` })
  }
  const create = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map(p => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' })
  if (create.status !== 0) throw new Error(create.stdout + create.stderr)
  await waitFor(() => /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'], { encoding: 'utf8' }).stdout), { intervalMs: 100, what: 'cluster_state:ok' })
  return ports.map(p => `127.0.0.1:${p}`).join(',')
}

t.test('sessions, legacy tokens, limits and the cache work unchanged on Redis Cluster', { skip: hasRedis ? false : 'redis-server/redis-cli not installed' }, async t => {
  const nodes = await startCluster(t)
  const app = await build(t, { REDIS_CLUSTER_NODES: nodes, MAX_SESSIONS_PER_USER: '2', SESSION_CACHE_TTL: '1s' })
  await waitFor(() => app.sessionCache?.active, { what: 'the near cache subscribed' }).catch(() => {})
  t.equal(app.sessionCache?.active, true, 'the near cache subscribed through the cluster')

  const user = await register(app)
  t.equal((await me(app, user.cookie)).statusCode, 200)
  const second = await login(app, user.email)
  const third = await login(app, user.email)
  t.equal((await me(app, user.cookie)).statusCode, 401, 'eviction (index + session in one slot)')
  const list = await app.inject({ method: 'GET', url: '/api/auth/sessions', headers: browser(third.cookie) })
  t.equal(list.json().sessions.length, 2)
  const revokeOthers = await app.inject({ method: 'DELETE', url: '/api/auth/sessions', headers: browser(third.cookie) })
  t.same(revokeOthers.json(), { revoked: 1 })
  t.equal((await me(app, second.cookie)).statusCode, 401)

  const legacyApp = await build(t, { REDIS_CLUSTER_NODES: nodes, REDIS_KEY_PREFIX: app.config.redis.keyPrefix, NEW_AUTH_PERCENTAGE: '0' })
  const tokens = await legacyLogin(legacyApp, user.email)
  t.equal((await refresh(legacyApp, tokens.refreshToken)).statusCode, 200)
  await legacyApp.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(tokens.accessToken) })
  t.equal((await legacyApp.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(tokens.accessToken) })).statusCode, 401, 'deny list (marker and jti in one slot)')

  const all = await app.inject({ method: 'POST', url: '/api/auth/logout-all', headers: browser(third.cookie) })
  t.equal(all.statusCode, 200)
  t.equal((await me(app, third.cookie)).statusCode, 401)
  const ready = await app.inject('/api/health/ready')
  t.equal(ready.statusCode, 200)
})
