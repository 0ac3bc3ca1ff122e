// The legacy JWT system during the transition: the access-token signer/verifier and the
// deny list, loaded into Redis from Postgres at start and again whenever Redis reconnects.
import fp from 'fastify-plugin'
import type { Config } from '../../config/config.js'
import { createLegacyJwt, type LegacyJwt } from './jwt.js'
import { createDenyList, type DenyList } from './deny-list.js'
import { autoPipelinedReader, waitForReady } from '../../infra/redis.js'

declare module 'fastify' {
  interface FastifyInstance {
    legacyJwt: LegacyJwt
    denyList: DenyList
  }
}

export const legacyPlugin = fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('legacyJwt', createLegacyJwt(config.jwt))
  // the deny-list check's MGET, auto-pipelined on a connection of its own (infra/redis.ts); its
  // errors are the main client's too, which logs them once per change
  const reader = autoPipelinedReader(app.redis)
  reader.on('error', () => {})
  app.addHook('onReady', async () => { await waitForReady(reader, 3000) })
  app.addHook('onClose', async () => { await reader.quit().catch(() => reader.disconnect()) })
  const denyList = createDenyList(app.redis, app.db.sql, config.redis.keyPrefix, app.log, config.jwt.accessTtlMs, reader)
  app.decorate('denyList', denyList)

  const reload = (): void => {
    denyList.rebuild().catch(err => app.log.error({ err: (err as Error).message }, 'deny list rebuild failed'))
  }
  app.addHook('onReady', async () => {
    if (app.redis.status === 'ready') reload()
    app.redis.on('ready', reload) // a restarted Redis may have lost every entry
  })
  app.addHook('onClose', async () => { app.redis.off('ready', reload) })
}, { name: 'legacy', dependencies: ['redis', 'db'] })
