// Trades of a portfolio. POST records a buy or a sell and moves the holding in the same
// transaction; a sell beyond the quantity held is a 422 that changes nothing.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Errors } from '../../core/errors.js'
import { UuidParamsSchema, errorReplies } from '../../core/schemas.js'
import { userActor } from '../actor.js'
import { decodeTimeKey, toPage } from '../cursor.js'
import { recordTrade, transactionPage } from '../queries/transactions.js'
import {
  PageQuerySchema, TradeReplySchema, TransactionCreateSchema, TransactionPageSchema, normalizeSymbol
} from '../schemas.js'

export const transactionRoutes: FastifyPluginAsyncTypebox = async app => {
  app.get('/api/portfolios/:id/transactions', {
    schema: { tags: ['portfolio'], summary: 'A portfolio\'s trades, newest first', params: UuidParamsSchema, querystring: PageQuerySchema, response: { 200: TransactionPageSchema, ...errorReplies(400, 401, 404) } }
  }, async request => {
    const { limit, cursor } = request.query
    const after = decodeTimeKey(cursor, 't')
    const rows = await app.db.readAsUser(userActor(request), q => transactionPage(q, request.params.id, after, limit + 1))
    if (rows.length === 0) throw new Errors.NOT_FOUND('Portfolio')
    const trades = rows.flatMap(r => r.transaction ? [r.transaction] : [])
    return toPage(trades, limit, tr => [tr.executedAt, tr.id], 't')
  })

  app.post('/api/portfolios/:id/transactions', {
    preValidation: normalizeSymbol,
    schema: {
      tags: ['portfolio'],
      summary: 'Record a buy or a sell; the holding moves with it (buy: re-averaged cost; sell: cost unchanged)',
      params: UuidParamsSchema,
      body: TransactionCreateSchema,
      response: { 201: TradeReplySchema, ...errorReplies(400, 401, 403, 404, 422) }
    }
  }, async (request, reply) => {
    const trade = await app.db.asUser(userActor(request), tx => recordTrade(tx, request.params.id, request.body))
    return reply.code(201).send(trade)
  })
}
