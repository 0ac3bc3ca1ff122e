// The live price feed: leader election and ticks, this instance's sockets, the WebSocket
// route and GET /api/prices. Needs @fastify/websocket registered before the authenticate hook
// (see websocketOptions).
import fp from 'fastify-plugin'
import type { Config } from '../config/config.js'
import { createPriceFeed, type PriceFeed } from './feed.js'
import { startPriceLeader, type PriceLeader } from './leader.js'
import { createRandomWalk } from './price-source.js'
import { wsPriceRoute } from './ws-route.js'
import { pricesRoute } from './prices-route.js'

declare module 'fastify' {
  interface FastifyInstance {
    priceFeed: PriceFeed
    priceLeader: PriceLeader
  }
}

export const pricesPlugin = fp<{ config: Config }>(async (app, { config }) => {
  const feed = createPriceFeed(app, config)
  const leader = startPriceLeader(app.redis, {
    keyPrefix: config.redis.keyPrefix,
    ttlMs: config.prices.leaderTtlMs,
    tickMs: config.prices.tickMs,
    source: createRandomWalk(config.prices.symbols)
  }, app.log)
  // on the root instance: the shutdown hook and the tests read them
  app.decorate('priceFeed', feed)
  app.decorate('priceLeader', leader)
  app.addHook('onClose', async () => {
    await leader.stop()
    await feed.stop()
  })
  await app.register(wsPriceRoute, { config, feed })
  await app.register(pricesRoute, { config, feed })
}, { name: 'prices', dependencies: ['@fastify/websocket', 'auth'] })
