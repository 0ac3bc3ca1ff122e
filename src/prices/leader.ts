// Exactly one instance publishes ticks. It holds a Redis lock with an expiry that it renews;
// each time the lock is taken it gets a fencing token from a counter that only grows. The
// publish is a Lua script that writes and publishes only while the lock still holds that
// token, so a leader that stalled past its expiry (GC pause, lost network) cannot publish
// next to its successor: its script finds another token and does nothing.
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { RedisClient } from '../infra/redis.js'
import type { PriceSource } from './price-source.js'

// KEYS[1] lock, KEYS[2] fence counter; ARGV[1] ttl ms → the new token, or 0 when held
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token`

// KEYS[1] lock; ARGV[1] token, ARGV[2] ttl ms → 1 when still ours
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`

// KEYS[1] lock; ARGV[1] token
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`

// KEYS[1] lock, KEYS[2] latest hash; ARGV[1] token, ARGV[2] channel, ARGV[3] message,
// ARGV[4..] symbol, "price ts" pairs → 1 when published, 0 when the lock is not ours
const PUBLISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 4))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`

interface LeaderCommands {
  hpPriceAcquire: (lock: string, fence: string, ttl: number) => Promise<number>
  hpPriceRenew: (lock: string, token: string, ttl: number) => Promise<number>
  hpPriceRelease: (lock: string, token: string) => Promise<number>
  hpPricePublish: (lock: string, latest: string, token: string, channel: string, message: string, ...pairs: string[]) => Promise<number>
}

function defineScripts (redis: RedisClient): LeaderCommands {
  const r = redis as Redis
  if (!('hpPricePublish' in r)) {
    r.defineCommand('hpPriceAcquire', { numberOfKeys: 2, lua: ACQUIRE })
    r.defineCommand('hpPriceRenew', { numberOfKeys: 1, lua: RENEW })
    r.defineCommand('hpPriceRelease', { numberOfKeys: 1, lua: RELEASE })
    r.defineCommand('hpPricePublish', { numberOfKeys: 2, lua: PUBLISH })
  }
  return r as unknown as LeaderCommands
}

/** the keys of the feed under a prefix; one hash tag, so the scripts work on Redis Cluster */
export function priceKeys (keyPrefix: string): { lock: string; fence: string; latest: string; channel: string } {
  return {
    lock: `${keyPrefix}{prices}:leader`,
    fence: `${keyPrefix}{prices}:fence`,
    latest: `${keyPrefix}{prices}:latest`,
    channel: `${keyPrefix}prices:ticks`
  }
}

/** a tick on the wire between instances: fencing token, publish time, prices */
export interface TickMessage { f: number; ts: number; p: [string, string][] }

export interface PriceLeader {
  readonly isLeader: boolean
  readonly token: number
  stop: () => Promise<void>
}

export function startPriceLeader (
  redis: RedisClient,
  opts: { keyPrefix: string; ttlMs: number; tickMs: number; source: PriceSource },
  log: FastifyBaseLogger
): PriceLeader {
  const scripts = defineScripts(redis)
  const keys = priceKeys(opts.keyPrefix)
  let token = 0
  let stopped = false
  let tickTimer: NodeJS.Timeout | null = null
  let publishing = false

  const stepDown = (why: string): void => {
    if (token !== 0) log[stopped ? 'info' : 'warn']({ token, why }, 'prices: no longer the publishing instance')
    token = 0
    if (tickTimer) clearInterval(tickTimer)
    tickTimer = null
  }

  const tick = (): void => {
    if (publishing || token === 0) return // one tick at a time; a slow Redis skips ticks, never queues them
    publishing = true
    const ts = Date.now()
    const prices = opts.source.next()
    const pairs: string[] = []
    for (const [symbol, price] of prices) pairs.push(symbol, `${price} ${ts}`)
    const message: TickMessage = { f: token, ts, p: prices }
    scripts.hpPricePublish(keys.lock, keys.latest, String(token), keys.channel, JSON.stringify(message), ...pairs)
      .then(ok => { if (ok !== 1) stepDown('lock taken by another instance') })
      .catch(err => log.warn({ err: (err as Error).message }, 'prices: publish failed'))
      .finally(() => { publishing = false })
  }

  const becomeLeader = async (newToken: number): Promise<void> => {
    // continue from the last published prices so a takeover does not jump
    const latest = await (redis as Redis).hgetall(keys.latest).catch(() => ({}))
    const resume = new Map<string, string>()
    for (const [symbol, value] of Object.entries(latest)) resume.set(symbol, value.split(' ')[0]!)
    opts.source.resume(resume)
    if (stopped) return
    token = newToken
    log.info({ token }, 'prices: this instance publishes the ticks')
    tickTimer = setInterval(tick, opts.tickMs)
    tick()
  }

  // acquire or renew at a third of the expiry (two renewals may fail before the lock lapses),
  // and at least every second, so a follower, or a start before Redis was ready, tries again soon
  const campaign = async (): Promise<void> => {
    if (redis.status !== 'ready') return // not connected (yet): the next round tries again
    try {
      if (token !== 0) {
        const ok = await scripts.hpPriceRenew(keys.lock, String(token), opts.ttlMs)
        if (ok !== 1) stepDown('lock lost')
      } else {
        const got = await scripts.hpPriceAcquire(keys.lock, keys.fence, opts.ttlMs)
        if (got > 0 && !stopped) await becomeLeader(Number(got))
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'prices: leader election failed; retrying')
    }
  }
  const campaignTimer = setInterval(() => { campaign() }, Math.min(1000, Math.max(100, Math.floor(opts.ttlMs / 3))))
  campaign()

  return {
    get isLeader () { return token !== 0 },
    get token () { return token },
    async stop () {
      stopped = true
      clearInterval(campaignTimer)
      const held = token
      stepDown('closing')
      // hand over at once instead of making the others wait for the expiry
      if (held !== 0) await scripts.hpPriceRelease(keys.lock, String(held)).catch(() => {})
    }
  }
}
