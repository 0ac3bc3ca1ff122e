// GET /api/prices?symbols=AAPL,MSFT: the latest prices for pages and clients without a socket.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config/config.js'
import { Errors } from '../core/errors.js'
import { lockRoutesInScope } from '../core/lockdown.js'
import { requireUser } from '../auth/guards.js'
import type { PriceFeed } from './feed.js'
import { MAX_SYMBOLS_PER_SOCKET } from './protocol.js'

const PricesQuery = Type.Object({
  symbols: Type.Optional(Type.String({
    pattern: `^[A-Z0-9.]{1,10}(,[A-Z0-9.]{1,10}){0,${MAX_SYMBOLS_PER_SOCKET - 1}}$`,
    description: 'comma-separated symbols; all when omitted'
  }))
}, { additionalProperties: Type.Never() }) // a schema, not false: the coercing validator would strip an unknown key silently

const PriceSchema = Type.Object({
  symbol: Type.String(),
  price: Type.String({ description: 'a decimal string, never a float' }),
  ts: Type.Integer({ description: 'epoch ms when the price was published' })
})

export const pricesRoute: FastifyPluginAsyncTypebox<{ config: Config; feed: PriceFeed }> = async (app, { config, feed }) => {
  lockRoutesInScope(app)
  const known = new Set(config.prices.symbols)
  app.get('/api/prices', {
    onRequest: requireUser,
    schema: { tags: ['prices'], querystring: PricesQuery, response: { 200: Type.Object({ prices: Type.Array(PriceSchema) }) } }
  }, async request => {
    const symbols = request.query.symbols ? [...new Set(request.query.symbols.split(','))] : config.prices.symbols
    const unknown = symbols.find(s => !known.has(s))
    if (unknown !== undefined) throw new Errors.PRICES_UNKNOWN_SYMBOL(unknown)
    try {
      return { prices: await feed.latestOf(symbols) }
    } catch {
      throw new Errors.DEPENDENCY_UNAVAILABLE()
    }
  })
}
