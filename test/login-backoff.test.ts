// Per-account backoff against the real Redis: locks after the threshold, doubles, caps,
// resets, and never writes the email into Redis.
import t, { type Test } from 'tap'
import type { Config, Env } from '../src/config/config.js'
import { Cluster } from 'ioredis'
import { createRedis, waitForReady, type RedisClient } from '../src/infra/redis.js'
import { accountTag, createLoginBackoff, type LoginBackoff } from '../src/auth/backoff.js'
import { delay, deleteRedisPrefix, testConfig, uniqueEmail } from './helper.js'

/** a connected client (single node or Cluster, as the environment says) */
async function connect (t: Test, config: Config): Promise<RedisClient> {
  const redis = createRedis(config.redis)
  t.teardown(async () => {
    await deleteRedisPrefix(config)
    await redis.quit()
  })
  t.ok(await waitForReady(redis, 5000), 'redis is ready')
  return redis
}

async function setup (t: Test, overrides: Env = {}): Promise<{ backoff: LoginBackoff; redis: RedisClient; prefix: string }> {
  const config = testConfig({ LOGIN_BACKOFF_THRESHOLD: '3', ...overrides })
  const redis = await connect(t, config)
  return { backoff: createLoginBackoff(redis, config), redis, prefix: config.redis.keyPrefix }
}

/** KEYS over every master of a Cluster, or the one node */
async function keysOf (redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis]
  return (await Promise.all(nodes.map(n => n.keys(pattern)))).flat()
}

const lockKey = (prefix: string, email: string) => `${prefix}lb:{${accountTag(email)}}:lock`
const counterKey = (prefix: string, email: string) => `${prefix}lb:{${accountTag(email)}}`

t.test('free below the threshold, locked from it on, and the lock doubles', async t => {
  const { backoff, redis, prefix } = await setup(t)
  const email = uniqueEmail('backoff')
  t.equal(await backoff.retryAfter(email), 0, 'never failed')
  await backoff.recordFailure(email)
  await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 0, 'two failures: still free')
  t.equal(await redis.get(counterKey(prefix, email)), '2')

  await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 1, '3rd failure: 1 s')
  const first = await redis.pttl(lockKey(prefix, email))
  t.ok(first > 0 && first <= 1000, `lock ${first} ms`)

  await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 2, '4th: 2 s')
  await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 4, '5th: 4 s')
  const third = await redis.pttl(lockKey(prefix, email))
  t.ok(third > 3000 && third <= 4000, `lock ${third} ms`)

  // the counter outlives the lock by the quiet window (at least 15 minutes)
  const counterTtl = await redis.pttl(counterKey(prefix, email))
  t.ok(counterTtl > 4000 + 15 * 60_000 - 1000 && counterTtl <= 4000 + 15 * 60_000, `counter ttl ${counterTtl} ms`)
})

t.test('the lock is capped at LOGIN_BACKOFF_MAX, the counter outlives it', async t => {
  const { backoff, redis, prefix } = await setup(t, { LOGIN_BACKOFF_THRESHOLD: '1', LOGIN_BACKOFF_MAX: '3s' })
  const email = uniqueEmail('capped')
  for (let i = 0; i < 60; i++) await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 3)
  const lock = await redis.pttl(lockKey(prefix, email))
  t.ok(lock > 2000 && lock <= 3000, `lock ${lock} ms`)
  t.equal(await redis.get(counterKey(prefix, email)), '60')
  t.ok(await redis.pttl(counterKey(prefix, email)) > 15 * 60_000, 'quiet window at least 15 minutes')
})

t.test('a lock runs out on its own', async t => {
  const { backoff } = await setup(t, { LOGIN_BACKOFF_THRESHOLD: '1' })
  const email = uniqueEmail('expiry')
  await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 1)
  await delay(1100) // the 1 s lock runs out
  t.equal(await backoff.retryAfter(email), 0)
  await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 2, 'the count survived the lock: the next failure locks longer')
})

t.test('reset clears both keys', async t => {
  const { backoff, redis, prefix } = await setup(t)
  const email = uniqueEmail('reset')
  for (let i = 0; i < 4; i++) await backoff.recordFailure(email)
  t.equal(await backoff.retryAfter(email), 2)
  await backoff.reset(email)
  t.equal(await backoff.retryAfter(email), 0)
  t.equal(await redis.exists(counterKey(prefix, email), lockKey(prefix, email)), 0)
  await backoff.recordFailure(email)
  t.equal(await redis.get(counterKey(prefix, email)), '1', 'counting starts over')
})

t.test('Redis holds no email text; both keys share one hash tag (one Cluster slot)', async t => {
  const { backoff, redis, prefix } = await setup(t, { LOGIN_BACKOFF_THRESHOLD: '1' })
  const email = uniqueEmail('secret')
  await backoff.recordFailure(email)
  const keys = (await keysOf(redis, `${prefix}*`)).sort()
  t.equal(keys.length, 2)
  const [local, domain] = email.split('@') as [string, string]
  for (const key of keys) {
    t.notOk(key.includes(email) || key.includes(local) || key.includes(domain), `${key} holds no part of the email`)
    t.notOk(String(await redis.get(key)).includes(local), 'nor does its value')
  }
  const tag = accountTag(email)
  t.match(tag, /^[A-Za-z0-9_-]{43}$/, 'SHA-256, base64url')
  t.same(keys, [`${prefix}lb:{${tag}}`, `${prefix}lb:{${tag}}:lock`])
})

t.test('accounts are independent; the email is case- and space-insensitive', async t => {
  const { backoff } = await setup(t)
  const email = uniqueEmail('case')
  const other = uniqueEmail('other')
  await backoff.recordFailure(email)
  await backoff.recordFailure(email.toUpperCase())
  await backoff.recordFailure(` ${email} `)
  t.equal(await backoff.retryAfter(email), 1)
  t.equal(await backoff.retryAfter(email.toUpperCase()), 1)
  t.equal(await backoff.retryAfter(other), 0, 'another account is free')
  await backoff.recordFailure(other)
  t.equal(await backoff.retryAfter(other), 0, 'and counts from its own zero')
  await backoff.reset(email.toUpperCase())
  t.equal(await backoff.retryAfter(email), 0)
})

t.test('two backoffs on one client (two apps sharing it) work together', async t => {
  const config = testConfig({ LOGIN_BACKOFF_THRESHOLD: '2' })
  const redis = await connect(t, config)
  const a = createLoginBackoff(redis, config)
  const b = createLoginBackoff(redis, config)
  const email = uniqueEmail('shared')
  await a.recordFailure(email)
  await b.recordFailure(email)
  t.equal(await a.retryAfter(email), 1)
  t.equal(await b.retryAfter(email), 1)
})
