// The portfolio API: portfolios here, holdings and trades in their own files, all behind
// requireUser (the portfolio plugin adds it). Every query runs under the caller's RLS
// context: reads as one statement (db.readAsUser), units of work as one transaction
// (db.asUser). Another user's id answers 404 exactly like a missing one, so ids reveal nothing.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config/config.js'
import { Errors } from '../../core/errors.js'
import { UuidParamsSchema, errorReplies } from '../../core/schemas.js'
import { userActor } from '../actor.js'
import { decodeTimeKey, toPage } from '../cursor.js'
import { createPortfolio, deletePortfolio, portfolioById, portfolioPage, updatePortfolio } from '../queries/portfolios.js'
import {
  PageQuerySchema, PortfolioCreateSchema, PortfolioPageSchema, PortfolioSchema, PortfolioUpdateSchema
} from '../schemas.js'
import { holdingRoutes } from './holdings.js'
import { transactionRoutes } from './transactions.js'

export const portfolioRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async app => {
  app.get('/api/portfolios', {
    schema: { tags: ['portfolio'], summary: 'The caller\'s portfolios, oldest first', querystring: PageQuerySchema, response: { 200: PortfolioPageSchema, ...errorReplies(400, 401) } }
  }, async request => {
    const actor = userActor(request)
    const { limit, cursor } = request.query
    const after = decodeTimeKey(cursor, 'p')
    const rows = await app.db.readAsUser(actor, q => portfolioPage(q, { ownerId: actor.userId, after, take: limit + 1 }))
    return toPage(rows, limit, r => [r.createdAt, r.id], 'p')
  })

  app.post('/api/portfolios', {
    schema: { tags: ['portfolio'], summary: 'Create a portfolio', body: PortfolioCreateSchema, response: { 201: PortfolioSchema, ...errorReplies(400, 401, 403) } }
  }, async (request, reply) => {
    const portfolio = await app.db.asUser(userActor(request), tx => createPortfolio(tx, request.body))
    return reply.code(201).send(portfolio)
  })

  app.get('/api/portfolios/:id', {
    schema: { tags: ['portfolio'], summary: 'One portfolio', params: UuidParamsSchema, response: { 200: PortfolioSchema, ...errorReplies(400, 401, 404) } }
  }, async request => {
    const [portfolio] = await app.db.readAsUser(userActor(request), q => portfolioById(q, request.params.id))
    if (!portfolio) throw new Errors.NOT_FOUND('Portfolio')
    return portfolio
  })

  app.patch('/api/portfolios/:id', {
    schema: { tags: ['portfolio'], summary: 'Rename a portfolio or change its base currency', params: UuidParamsSchema, body: PortfolioUpdateSchema, response: { 200: PortfolioSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const { name, baseCurrency } = request.body
    // unknown keys are stripped by the validator, which may leave nothing to change
    if (name === undefined && baseCurrency === undefined) throw new Errors.EMPTY_UPDATE()
    const portfolio = await app.db.asUser(userActor(request), tx => updatePortfolio(tx, request.params.id, { name, baseCurrency }))
    if (!portfolio) throw new Errors.NOT_FOUND('Portfolio')
    return portfolio
  })

  app.delete('/api/portfolios/:id', {
    schema: { tags: ['portfolio'], summary: 'Delete a portfolio with its holdings and transactions', params: UuidParamsSchema, response: { 204: { type: 'null' }, ...errorReplies(400, 401, 403, 404) } }
  }, async (request, reply) => {
    const deleted = await app.db.asUser(userActor(request), tx => deletePortfolio(tx, request.params.id))
    if (!deleted) throw new Errors.NOT_FOUND('Portfolio')
    return reply.code(204).send()
  })

  await app.register(holdingRoutes)
  await app.register(transactionRoutes)
}
