// One publisher at a time: a closed leader is replaced within 5 s, and a leader whose lock
// was taken (it stalled past its expiry) can no longer publish: the fencing token decides.
import t, { type Test } from 'tap'
import type { Redis } from 'ioredis'
import { createRedis } from '../src/infra/redis.js'
import { register } from './auth-helper.js'
import { twoInstances, browserSocket, closeAll, sleep } from './ws-helper.js'
import { priceKeys, type TickMessage } from '../src/prices/leader.js'

async function watchTicks (t: Test, config: import('../src/config/config.js').Config): Promise<{ fences: number[]; times: number[] }> {
  const sub = createRedis(config.redis, { enableOfflineQueue: true, maxRetriesPerRequest: null }) as Redis
  t.teardown(() => sub.disconnect())
  const seen = { fences: [] as number[], times: [] as number[] }
  sub.on('message', (_c, payload: string) => {
    const m = JSON.parse(payload) as TickMessage
    seen.fences.push(m.f)
    seen.times.push(Date.now())
  })
  await sub.subscribe(priceKeys(config.redis.keyPrefix).channel)
  return seen
}

const nonDecreasing = (xs: number[]): boolean => xs.every((x, i) => i === 0 || x >= xs[i - 1]!)

t.test('the leader closes: another instance publishes within 5 s, never two at once', async t => {
  const { a, b, urlA, urlB } = await twoInstances(t)
  const seen = await watchTicks(t, a.config)
  const deadline = Date.now() + 5000
  while (!a.priceLeader.isLeader && !b.priceLeader.isLeader && Date.now() < deadline) await sleep(20)
  t.equal(Number(a.priceLeader.isLeader) + Number(b.priceLeader.isLeader), 1, 'exactly one leader')
  const [leader, follower, followerUrl] = a.priceLeader.isLeader ? [a, b, urlB] : [b, a, urlA]
  const user = await register(follower)
  const s = await browserSocket(followerUrl, user.cookie)
  s.send({ type: 'subscribe', symbols: ['AAPL'] })
  await s.next(f => f.type === 'price')
  const firstFence = leader.priceLeader.token

  const closedAt = Date.now()
  await leader.close()
  const before = s.frames.length
  await s.next(f => f.type === 'price' && s.frames.indexOf(f) >= before, 5000)
  t.ok(Date.now() - closedAt < 5000, `ticks resumed ${Date.now() - closedAt} ms after the leader closed`)
  t.ok(follower.priceLeader.isLeader, 'the other instance leads')
  t.ok(follower.priceLeader.token > firstFence, 'with a higher fencing token')
  await sleep(300)
  t.ok(nonDecreasing(seen.fences), 'fencing tokens never go back: no interleaved publishers')
  t.same([...new Set(seen.fences)].sort(), [firstFence, follower.priceLeader.token].sort(), 'two tokens in all: one per leader in turn')
  await closeAll([s])
})

t.test('a leader that lost its lock cannot publish (fencing)', async t => {
  const { a, b } = await twoInstances(t, { PRICE_LEADER_TTL: '30s' }) // no expiry during the test
  const seen = await watchTicks(t, a.config)
  const deadline = Date.now() + 5000
  while (!a.priceLeader.isLeader && !b.priceLeader.isLeader && Date.now() < deadline) await sleep(20)
  const leader = a.priceLeader.isLeader ? a : b
  const old = leader.priceLeader.token
  t.ok(old > 0, 'one instance leads')
  await sleep(200)
  t.ok(seen.fences.includes(old), 'and publishes')
  // as if the leader stalled past its expiry and another instance took the lock with a new token
  const keys = priceKeys(a.config.redis.keyPrefix)
  const usurper = await (a.redis as Redis).incr(keys.fence)
  await (a.redis as Redis).set(keys.lock, String(usurper), 'PX', 30_000)
  const cutAt = Date.now()
  await sleep(500)
  t.notOk(leader.priceLeader.isLeader, 'the stalled leader stepped down on its next publish')
  const late = seen.fences.filter((f, i) => f === old && seen.times[i]! > cutAt + 5)
  t.equal(late.length, 0, 'no tick with the old token after the lock moved on')
  t.notOk(a.priceLeader.isLeader || b.priceLeader.isLeader, 'nobody publishes while the usurper holds the lock')
})
