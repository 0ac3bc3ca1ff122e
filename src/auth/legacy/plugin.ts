// The legacy JWT system during the transition: the access-token signer/verifier and the
// deny list, loaded into Redis from Postgres at start and again whenever Redis reconnects.
import fp from 'fastify-plugin'
import type { Config } from '../../config/config.js'
import { createLegacyJwt, type LegacyJwt } from './jwt.js'
import { createDenyList, type DenyList } from './deny-list.js'

declare module 'fastify' {
  interface FastifyInstance {
    legacyJwt: LegacyJwt
    denyList: DenyList
  }
}

export const legacyPlugin = fp<{ config: Config }>(async (app, { config }) => {
  app.decorate('legacyJwt', createLegacyJwt(config.jwt))
  // the deny-list check's MGET shares the session check's auto-pipelined reader (infra/redis.ts)
  const denyList = createDenyList(app.redis, app.db.sql, config.redis.keyPrefix, app.log, config.jwt.accessTtlMs, app.redisReader)
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
