// Who the database acts for on the portfolio routes. Always role 'user', also for admins: the
// admin read policy would otherwise widen an admin's own lists and lookups to every user's
// rows. Reading other users' data is the admin route's job, and it says so explicitly.
import type { FastifyRequest } from 'fastify'
import type { DbActor } from '../infra/db.js'
import { authOf } from '../auth/guards.js'

export function userActor (request: FastifyRequest): DbActor {
  return { userId: authOf(request).userId, role: 'user' }
}
