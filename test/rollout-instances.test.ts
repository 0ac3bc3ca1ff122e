// The rollout every running server publishes to Redis (src/auth/rollout-instances.ts), as the
// legacy report reads it: servers that disagree give the lowest percentage (the coverage all of
// them give), a server whose heartbeat stopped is not counted and is pruned, a server that
// closes removes its entry, and with no server the report says so instead of guessing.
import t from 'tap'
import { build, uniquePrefix, waitFor } from './helper.js'
import { register } from './auth-helper.js'
import { bucket } from '../src/auth/rollout.js'
import { publishRollout, readPublishedRollouts } from '../src/auth/rollout-instances.js'
import { ownSchema, runReport } from './legacy-report-helper.js'

t.test('servers that disagree, a server that stopped, and no server at all', async t => {
  const seed = await build(t, { NEW_AUTH_PERCENTAGE: '0' })
  const user = await register(seed)
  const b = bucket(user.userId)
  const { url } = await ownSchema(t, user.userId)
  const prefix = uniquePrefix()
  const shell = { REDIS_KEY_PREFIX: prefix, DATABASE_URL: url }
  t.teardown(() => seed.redis.del(`${prefix}rollout-instances`))

  const none = runReport(shell)
  t.equal(none.status, 0, none.stderr)
  t.match(JSON.parse(none.stdout), { servers: { count: 0, effectivePercentage: null }, usersWithLiveLegacyFamilies: 1, inSessionsBucket: null, stillLegacy: null })
  const noneText = runReport(shell, false).stdout
  t.match(noneText, /rollout in force: unknown \(no running server has published its rollout/)
  t.match(noneText, /verdict: not yet: 1 user still holds 1 live legacy refresh family; no running server has published its rollout in the last 10 s/)

  const flags = seed.config.rollout
  const now = Date.now()
  await publishRollout(seed.redis, prefix, { instance: 'gone', flags, override: null, effectivePercentage: 0, at: now - 11_000 })
  t.equal((await readPublishedRollouts(seed.redis, prefix)).length, 0, 'a heartbeat older than 10 s is no running server')
  await publishRollout(seed.redis, prefix, { instance: 'a', flags, override: null, effectivePercentage: 100, at: now })
  await publishRollout(seed.redis, prefix, { instance: 'b', flags, override: null, effectivePercentage: b + 1, at: now })
  const mixed = JSON.parse(runReport(shell).stdout)
  t.match(mixed.servers, { count: 2, effectivePercentage: b + 1, agree: false }, 'the lowest of the live servers; the stopped one is not counted')
  t.equal(mixed.inSessionsBucket, 1)
  t.same(Object.keys(await seed.redis.hgetall(`${prefix}rollout-instances`)).sort(), ['a', 'b'], 'a publisher prunes the stopped server\'s field')
})

t.test('a server removes its entry when it closes', async t => {
  const prefix = uniquePrefix()
  const probe = await build(t)
  const server = await build(t, { REDIS_KEY_PREFIX: prefix })
  await waitFor(async () => (await readPublishedRollouts(probe.redis, prefix)).length === 1, { what: 'published' })
  await server.close()
  t.same(await readPublishedRollouts(probe.redis, prefix), [], 'gone at close, not after the stale window')
})
