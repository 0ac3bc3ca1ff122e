// Every error code the API answers with, defined once. Clients rely on `code`; messages may
// be reworded. Shape on the wire: { statusCode, code, error, message }.
import createError from '@fastify/error'

export const Errors = {
  AUTH_REQUIRED: createError('AUTH_REQUIRED', 'Authentication required', 401),
  AUTH_FORBIDDEN: createError('AUTH_FORBIDDEN', 'Not allowed', 403),
  AUTH_INVALID_CREDENTIALS: createError('AUTH_INVALID_CREDENTIALS', 'Invalid email or password', 401),
  NOT_FOUND: createError('NOT_FOUND', '%s not found', 404),
  DEPENDENCY_UNAVAILABLE: createError('DEPENDENCY_UNAVAILABLE', 'A backing service is unavailable; try again shortly', 503)
} as const
