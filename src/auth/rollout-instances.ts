// Every running server publishes the rollout it applies (its flags from the environment, the
// override it sees, the resulting percentage) to one Redis hash, a field per instance, every
// 2 s. npm run legacy:report and GET /api/admin/migration read it there: the rollout that
// matters is the one the servers use, not the environment of the shell that asks. A field not
// renewed for STALE_AFTER_MS belongs to a server that is gone: readers skip it, publishers
// prune it, and the whole key expires when the last server stops.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Config } from '../config/config.js'
import type { RedisClient } from '../infra/redis.js'
import { effectivePercentage } from './rollout.js'
import type { RolloutOverride } from './rollout-override.js'

export interface PublishedRollout {
  /** host name, process id and a random tag: unique per running server */
  instance: string
  flags: Config['rollout']
  override: RolloutOverride | null
  effectivePercentage: number
  /** epoch ms of the last heartbeat */
  at: number
}

const PUBLISH_EVERY_MS = 2000
export const STALE_AFTER_MS = 10_000

const instancesKey = (keyPrefix: string): string => `${keyPrefix}rollout-instances`

// one round trip: write our field, keep the key alive, drop fields whose heartbeat stopped
const PUBLISH = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, entry = pcall(cjson.decode, all[i + 1])
  if not ok or type(entry) ~= 'table' or type(entry.at) ~= 'number' or entry.at < tonumber(ARGV[4]) then
    redis.call('HDEL', KEYS[1], all[i])
  end
end
return 1
`

export async function publishRollout (redis: RedisClient, keyPrefix: string, entry: PublishedRollout): Promise<void> {
  await (redis as Redis).eval(PUBLISH, 1, instancesKey(keyPrefix), entry.instance, JSON.stringify(entry), STALE_AFTER_MS, entry.at - STALE_AFTER_MS)
}

/** the rollouts of the servers alive now (heartbeat within STALE_AFTER_MS), by instance name */
export async function readPublishedRollouts (redis: RedisClient, keyPrefix: string, now = Date.now()): Promise<PublishedRollout[]> {
  const fields = await redis.hgetall(instancesKey(keyPrefix))
  const live: PublishedRollout[] = []
  for (const raw of Object.values(fields)) {
    try {
      const entry = JSON.parse(raw) as PublishedRollout
      if (typeof entry.at === 'number' && entry.at >= now - STALE_AFTER_MS && typeof entry.effectivePercentage === 'number') live.push(entry)
    } catch { /* an unreadable field is no server */ }
  }
  return live.sort((a, b) => a.instance.localeCompare(b.instance))
}

export const rolloutPublisherPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`
  const keyPrefix = config.redis.keyPrefix
  const publish = (): void => {
    const override = app.rolloutOverride.current
    publishRollout(app.redis, keyPrefix, {
      instance,
      flags: config.rollout,
      override,
      effectivePercentage: effectivePercentage(config.rollout, override?.maxPercentage ?? null),
      at: Date.now()
    }).catch(() => { /* Redis down: the next heartbeat publishes again */ })
  }
  const timer = setInterval(publish, PUBLISH_EVERY_MS)
  timer.unref()
  app.addHook('onReady', async () => { publish() })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    // gone at once rather than after STALE_AFTER_MS; a dead Redis forgets it anyway
    await app.redis.hdel(instancesKey(keyPrefix), instance).catch(() => {})
  })
}, { name: 'rollout-publisher', dependencies: ['redis', 'rollout-override'] })
