// LEGACY_AUTH_ENABLED=false retires legacy JWTs without deleting anything: tokens are refused
// at the door (no signature check, no Redis), refresh families and the deny list stay as they
// are, so turning the flag back on serves every token that is still valid and not deny-listed.
// An Authorization header is the only place a legacy credential travels (Bearer on HTTP, and on
// /ws/prices the header that announces an auth message), so a request that brings one to a
// retired server is told to sign in again rather than that it brought nothing.
import type { FastifyRequest } from 'fastify'
import { Errors } from '../../core/errors.js'

/** AUTH_LEGACY_RETIRED for a caller that brought a legacy credential to a retired server, else AUTH_REQUIRED */
export function unauthenticatedError (request: FastifyRequest): Error {
  return !request.server.config.rollout.legacyAuthEnabled && request.headers.authorization !== undefined
    ? new Errors.AUTH_LEGACY_RETIRED()
    : new Errors.AUTH_REQUIRED()
}

/** a route hook for legacy-only routes (refresh): refused before the body is read */
export async function refuseWhenRetired (request: FastifyRequest): Promise<void> {
  if (!request.server.config.rollout.legacyAuthEnabled) throw new Errors.AUTH_LEGACY_RETIRED()
}
