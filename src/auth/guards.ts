// Route-level guards, used as `onRequest: requireUser` so an anonymous request is refused
// before its body is even read. Callback style, not async: every guarded request runs one,
// and an async hook costs a promise and a microtask turn each time.
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify'
import { Errors } from '../core/errors.js'
import type { AuthContext } from './context.js'
import { unauthenticatedError } from './legacy/retirement.js'

// a cookie that stopped validating is told apart from no credential at all
const unauthenticated = (request: FastifyRequest): Error =>
  request.sessionEnded ? new Errors.SESSION_EXPIRED() : unauthenticatedError(request)

export function requireUser (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (!request.auth) done(unauthenticated(request))
  else done()
}

export function requireAdmin (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  if (!request.auth) done(unauthenticated(request))
  else if (request.auth.role !== 'admin') done(new Errors.AUTH_FORBIDDEN())
  else done()
}

/** the caller of a route guarded by requireUser/requireAdmin */
export function authOf (request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthenticated(request)
  return request.auth
}
