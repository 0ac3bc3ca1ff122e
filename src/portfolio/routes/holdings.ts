// Holdings of a portfolio: list and add under /api/portfolios/:id, correct and remove by the
// holding's own id. Registered inside the portfolio plugin, which adds requireUser, lockdown
// and the Postgres error translation.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Errors } from '../../core/errors.js'
import { UuidParamsSchema, errorReplies } from '../../core/schemas.js'
import { userActor } from '../actor.js'
import { decodeSymbolKey, toPage } from '../cursor.js'
import { createHolding, deleteHolding, holdingPage, updateHolding } from '../queries/holdings.js'
import {
  HoldingCreateSchema, HoldingPageSchema, HoldingSchema, HoldingUpdateSchema, PageQuerySchema, normalizeSymbol
} from '../schemas.js'

export const holdingRoutes: FastifyPluginAsyncTypebox = async app => {
  app.get('/api/portfolios/:id/holdings', {
    schema: { tags: ['portfolio'], summary: 'A portfolio\'s holdings by symbol', params: UuidParamsSchema, querystring: PageQuerySchema, response: { 200: HoldingPageSchema, ...errorReplies(400, 401, 404) } }
  }, async request => {
    const { limit, cursor } = request.query
    const after = decodeSymbolKey(cursor, 'h')
    const rows = await app.db.readAsUser(userActor(request), q => holdingPage(q, request.params.id, after, limit + 1))
    if (rows.length === 0) throw new Errors.NOT_FOUND('Portfolio')
    const holdings = rows.flatMap(r => r.holding ? [r.holding] : [])
    return toPage(holdings, limit, h => [h.symbol], 'h')
  })

  app.post('/api/portfolios/:id/holdings', {
    preValidation: normalizeSymbol,
    schema: { tags: ['portfolio'], summary: 'Add a holding (quantity and average cost default to 0)', params: UuidParamsSchema, body: HoldingCreateSchema, response: { 201: HoldingSchema, ...errorReplies(400, 401, 403, 404, 409) } }
  }, async (request, reply) => {
    const holding = await app.db.asUser(userActor(request), tx => createHolding(tx, request.params.id, request.body))
    if (!holding) throw new Errors.NOT_FOUND('Portfolio')
    return reply.code(201).send(holding)
  })

  app.patch('/api/holdings/:id', {
    schema: { tags: ['portfolio'], summary: 'Correct a holding\'s quantity or average cost', params: UuidParamsSchema, body: HoldingUpdateSchema, response: { 200: HoldingSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const { quantity, averageCost } = request.body
    if (quantity === undefined && averageCost === undefined) throw new Errors.EMPTY_UPDATE()
    const holding = await app.db.asUser(userActor(request), tx => updateHolding(tx, request.params.id, { quantity, averageCost }))
    if (!holding) throw new Errors.NOT_FOUND('Holding')
    return holding
  })

  app.delete('/api/holdings/:id', {
    schema: { tags: ['portfolio'], summary: 'Remove a holding (its transactions stay)', params: UuidParamsSchema, response: { 204: { type: 'null' }, ...errorReplies(400, 401, 403, 404) } }
  }, async (request, reply) => {
    const deleted = await app.db.asUser(userActor(request), tx => deleteHolding(tx, request.params.id))
    if (!deleted) throw new Errors.NOT_FOUND('Holding')
    return reply.code(204).send()
  })
}
