// One ioredis client (single node or Cluster) that fails fast: no long offline queue, a
// bounded retry per command and short timeouts, so a dead Redis gives a quick, clear
// error instead of hung requests. Reconnection keeps trying in the background.
import { Redis, Cluster, type RedisOptions } from 'ioredis'
import fp from 'fastify-plugin'
import type { Config } from '../config/config.js'

export type RedisClient = Redis | Cluster

const FAIL_FAST: RedisOptions = {
  connectTimeout: 2000,
  commandTimeout: 2000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: (times: number) => Math.min(100 * times, 2000)
}

export function createRedis (config: Config['redis'], extra: RedisOptions = {}): RedisClient {
  if (config.clusterNodes.length > 0) {
    const url = new URL(config.url)
    return new Cluster([...config.clusterNodes], {
      enableOfflineQueue: false,
      clusterRetryStrategy: FAIL_FAST.retryStrategy,
      redisOptions: {
        ...FAIL_FAST,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...extra
      }
    })
  }
  return new Redis(config.url, { ...FAIL_FAST, ...extra })
}

/**
 * A connection of its own for SUBSCRIBE (a subscribed connection can send nothing else): it
 * queues its commands until connected and keeps retrying in the background. On a cluster the
 * node options are merged, not replaced, so credentials and timeouts carry over.
 */
export function subscriberFor (client: RedisClient): RedisClient {
  // a cluster keeps its offline queue at the cluster level, the retries per node
  return client instanceof Cluster
    ? client.duplicate(undefined, { enableOfflineQueue: true, redisOptions: { ...client.options.redisOptions, maxRetriesPerRequest: null } })
    : client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null })
}

/**
 * A connection of its own for the session check's reads, auto-pipelined: the HMGET and GET of
 * every request of one event-loop turn go out in one write, where an explicit pipeline per
 * request cost a write and a Pipeline object each (ioredis: 0.4-0.5x the rate of one GET against
 * 0.9-1.0x auto-pipelined). Only built-in read commands go through it: ioredis' auto-pipelining
 * of defineCommand scripts has open bugs (redis/ioredis#1931, #2109), so scripts stay on the main
 * connection. Same fail-fast options as the client it is made from.
 */
export function autoPipelinedReader (client: RedisClient): RedisClient {
  return client instanceof Cluster
    ? client.duplicate(undefined, { enableAutoPipelining: true })
    : client.duplicate({ enableAutoPipelining: true })
}

/** resolves when the client is ready, or after `ms` (the app still starts; readiness reports it) */
export function waitForReady (client: RedisClient, ms: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true)
  return new Promise(resolve => {
    const done = (ok: boolean): void => { clearTimeout(timer); client.off('ready', onReady); resolve(ok) }
    const onReady = (): void => done(true)
    const timer = setTimeout(() => done(false), ms)
    client.once('ready', onReady)
  })
}

declare module 'fastify' {
  interface FastifyInstance {
    redis: RedisClient
    /**
     * the hot path's reads (session MGET, deny-list MGET), auto-pipelined on a connection of their
     * own: every read of one event-loop turn leaves in one socket write. Scripts and writes stay on `redis`.
     */
    redisReader: RedisClient
  }
}

export const redisPlugin = fp<{ config: Config; client?: RedisClient }>(async (app, opts) => {
  const client = opts.client ?? createRedis(opts.config.redis)
  // a failed connection attempt is logged once per state change, not per retry
  let lastError = ''
  client.on('error', (err: Error) => {
    if (err.message !== lastError) app.log.warn({ err: err.message }, 'redis error')
    lastError = err.message
  })
  client.on('ready', () => { lastError = '' })
  app.decorate<RedisClient>('redis', client)
  // its errors are the main client's too, which logs them once per change
  const reader = autoPipelinedReader(client)
  reader.on('error', () => {})
  app.decorate<RedisClient>('redisReader', reader)
  app.addHook('onReady', async () => {
    if (!(await waitForReady(client, 3000))) app.log.warn('redis not ready yet; readiness will report it')
    await waitForReady(reader, 3000)
  })
  app.addHook('onClose', async () => {
    await reader.quit().catch(() => reader.disconnect())
    if (opts.client) return // the caller owns it
    await client.quit().catch(() => client.disconnect())
  })
}, { name: 'redis' })
