// Route-level guards, used as `onRequest: requireUser` so an anonymous request is refused
// before its body is even read.
import type { FastifyRequest } from 'fastify'
import { Errors } from '../core/errors.js'
import type { AuthContext } from './context.js'
import { unauthenticatedError } from './legacy/retirement.js'

// a cookie that stopped validating is told apart from no credential at all
const unauthenticated = (request: FastifyRequest): Error =>
  request.sessionEnded ? new Errors.SESSION_EXPIRED() : unauthenticatedError(request)

export async function requireUser (request: FastifyRequest): Promise<void> {
  if (!request.auth) throw unauthenticated(request)
}

export async function requireAdmin (request: FastifyRequest): Promise<void> {
  if (!request.auth) throw unauthenticated(request)
  if (request.auth.role !== 'admin') throw new Errors.AUTH_FORBIDDEN()
}

/** the caller of a route guarded by requireUser/requireAdmin */
export function authOf (request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated(request)
  return request.auth
}
