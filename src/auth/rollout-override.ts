// The rollback override: a cap on the session percentage that an operator or the ops guard
// writes to Redis. Every instance applies it within 1 s: a Pub/Sub message for speed, a
// periodic read for the message that a dropped subscription lost. It can only LOWER the
// percentage from the environment (the source of the configured values), and lowering it
// only changes what new logins get: nobody is logged out.
import fp from 'fastify-plugin'
import { subscriberFor, type RedisClient } from '../infra/redis.js'

export interface RolloutOverride {
  /** the highest percentage allowed while the override stands (0 = every new login goes legacy) */
  maxPercentage: number
  reason: string
  /** ISO time it was written */
  at: string
}

const READ_EVERY_MS = 1000

export const overrideKey = (keyPrefix: string): string => `${keyPrefix}rollout-override`
const overrideChannel = (keyPrefix: string): string => `${keyPrefix}rollout-override-changed`

/** null for anything that is not a well-formed override (an unreadable value caps nothing) */
export function parseOverride (raw: string | null): RolloutOverride | null {
  if (raw === null) return null
  let v: unknown
  try { v = JSON.parse(raw) } catch { return null }
  if (typeof v !== 'object' || v === null) return null
  const o = v as Record<string, unknown>
  if (typeof o.maxPercentage !== 'number' || !Number.isInteger(o.maxPercentage) || o.maxPercentage < 0 || o.maxPercentage > 100) return null
  return { maxPercentage: o.maxPercentage, reason: typeof o.reason === 'string' ? o.reason : '', at: typeof o.at === 'string' ? o.at : '' }
}

/** writes the override and tells every instance; returns false when one already stood */
export async function writeOverride (redis: RedisClient, keyPrefix: string, override: RolloutOverride): Promise<boolean> {
  const set = await redis.set(overrideKey(keyPrefix), JSON.stringify(override), 'NX')
  await redis.publish(overrideChannel(keyPrefix), 'set')
  return set === 'OK'
}

/** removes the override (the environment's percentage applies again); true when one stood */
export async function clearOverride (redis: RedisClient, keyPrefix: string): Promise<boolean> {
  const removed = await redis.del(overrideKey(keyPrefix))
  await redis.publish(overrideChannel(keyPrefix), 'cleared')
  return removed > 0
}

interface OverrideState {
  /** the override in force on this instance, or null */
  readonly current: RolloutOverride | null
  /** re-reads Redis now */
  refresh: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    rolloutOverride: OverrideState
  }
}

export const rolloutOverridePlugin = fp<{ keyPrefix: string }>(async (app, { keyPrefix }) => {
  let current: RolloutOverride | null = null
  const refresh = async (): Promise<void> => {
    const before = current
    current = parseOverride(await app.redis.get(overrideKey(keyPrefix)))
    if (current && !before) app.log.warn({ override: current }, 'rollout override in force: new logins capped')
    if (!current && before) app.log.info('rollout override cleared')
  }
  const quietRefresh = (): void => {
    // Redis down: keep the last known value (a rollback stays in force through an outage)
    refresh().catch(() => {})
  }

  const subscriber = subscriberFor(app.redis)
  subscriber.on('message', quietRefresh)
  subscriber.on('ready', () => { subscriber.subscribe(overrideChannel(keyPrefix)).then(quietRefresh, () => {}) })
  subscriber.on('error', () => { /* the periodic read covers a lost subscription */ })
  const timer = setInterval(quietRefresh, READ_EVERY_MS)
  timer.unref()

  app.decorate('rolloutOverride', { get current () { return current }, refresh } satisfies OverrideState)
  app.addHook('onReady', async () => { quietRefresh() })
  app.addHook('onClose', async () => {
    clearInterval(timer)
    subscriber.disconnect()
  })
}, { name: 'rollout-override', dependencies: ['redis'] })
