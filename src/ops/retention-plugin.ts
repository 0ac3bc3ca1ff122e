// Runs the retention jobs every RETENTION_INTERVAL on whichever instance takes the lock
// (retention.ts). The first run comes one interval after start, so a rolling deploy does not
// start a run on every new pod; RETENTION_INTERVAL=0 turns the timer off (app.retention.runOnce
// still works, for tests and operators).
import fp from 'fastify-plugin'
import type { Config } from '../config/config.js'
import { createRetention, type Retention } from './retention.js'

declare module 'fastify' {
  interface FastifyInstance {
    retention: Retention
  }
}

export const retentionPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const retention = createRetention(app.redis, app.db.sql, config, app.log)
  app.decorate('retention', retention)
  if (config.retention.intervalMs === 0) return
  let timer: NodeJS.Timeout | null = null
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      retention.runOnce().catch(err => app.log.warn({ err: (err as Error).message }, 'retention: run failed; the next interval tries again'))
    }, config.retention.intervalMs)
    timer.unref()
  })
  app.addHook('onClose', async () => { if (timer) clearInterval(timer) })
}, { name: 'retention', dependencies: ['redis', 'db'] })
