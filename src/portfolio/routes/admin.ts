// Admins read any user's portfolios under the admin read policy (role 'admin' in the RLS
// context; the policies still let an admin write only their own rows). Every read is audited.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Errors } from '../../core/errors.js'
import { authOf, requireAdmin } from '../../auth/guards.js'
import { UuidParamsSchema, errorReplies } from '../../core/schemas.js'
import { findUserById } from '../../auth/users.js'
import { decodeTimeKey, toPage } from '../cursor.js'
import { portfolioPage } from '../queries/portfolios.js'
import { PageQuerySchema, PortfolioPageSchema } from '../schemas.js'
import { requestContext } from '../../core/request-context.js'

export const adminPortfolioRoutes: FastifyPluginAsyncTypebox = async app => {
  app.addHook('onRequest', requireAdmin)

  app.get('/api/admin/users/:id/portfolios', {
    schema: { tags: ['admin', 'portfolio'], summary: 'A user\'s portfolios, read as an admin (audited)', params: UuidParamsSchema, querystring: PageQuerySchema, response: { 200: PortfolioPageSchema, ...errorReplies(400, 401, 403, 404) } }
  }, async request => {
    const admin = authOf(request)
    const targetUserId = request.params.id
    const { limit, cursor } = request.query
    const after = decodeTimeKey(cursor, 'p')
    if (!(await findUserById(app.db.sql, targetUserId))) throw new Errors.NOT_FOUND('User')
    const rows = await app.db.readAsUser({ userId: admin.userId, role: 'admin' }, q => portfolioPage(q, { ownerId: targetUserId, after, take: limit + 1 }))
    app.audit.record({
      type: 'ADMIN_PORTFOLIOS_READ',
      userId: targetUserId,
      details: { adminId: admin.userId },
      ...requestContext(request)
    })
    return toPage(rows, limit, r => [r.createdAt, r.id], 'p')
  })
}
