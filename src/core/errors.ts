// Every error code the API answers with, defined once. Clients rely on `code`; messages may
// be reworded. Shape on the wire: { statusCode, code, error, message }.
import createError from '@fastify/error'

export const Errors = {
  AUTH_REQUIRED: createError('AUTH_REQUIRED', 'Authentication required', 401),
  AUTH_FORBIDDEN: createError('AUTH_FORBIDDEN', 'Not allowed', 403),
  AUTH_INVALID_CREDENTIALS: createError('AUTH_INVALID_CREDENTIALS', 'Invalid email or password', 401),
  AUTH_EMAIL_TAKEN: createError('AUTH_EMAIL_TAKEN', 'An account with this email already exists', 409),
  AUTH_PASSWORD_REJECTED: createError('AUTH_PASSWORD_REJECTED', '%s', 400),
  AUTH_ACCOUNT_DISABLED: createError('AUTH_ACCOUNT_DISABLED', 'This account is disabled', 403),
  AUTH_TOO_MANY_ATTEMPTS: createError('AUTH_TOO_MANY_ATTEMPTS', 'Too many failed logins for this account; try again later', 429),
  AUTH_REFRESH_INVALID: createError('AUTH_REFRESH_INVALID', 'Refresh token is invalid or expired; log in again', 401),
  AUTH_REFRESH_RACE: createError('AUTH_REFRESH_RACE', 'This refresh token was just rotated by a parallel request; use the newest tokens', 409),
  AUTH_REFRESH_REUSED: createError('AUTH_REFRESH_REUSED', 'Refresh token reuse detected; every token of this login was revoked', 401),
  CSRF_ORIGIN_REJECTED: createError('CSRF_ORIGIN_REJECTED', 'Cross-site request refused', 403),
  RATE_LIMITED: createError('RATE_LIMITED', 'Too many requests; retry later', 429),
  PRICES_UNKNOWN_SYMBOL: createError('PRICES_UNKNOWN_SYMBOL', 'Unknown symbol: %s', 400),
  WS_ORIGIN_REJECTED: createError('WS_ORIGIN_REJECTED', 'WebSocket upgrade from a foreign or missing Origin refused', 403),
  WS_UPGRADE_REQUIRED: createError('WS_UPGRADE_REQUIRED', 'This address speaks WebSocket only', 426),
  NOT_FOUND: createError('NOT_FOUND', '%s not found', 404),
  DEPENDENCY_UNAVAILABLE: createError('DEPENDENCY_UNAVAILABLE', 'A backing service is unavailable; try again shortly', 503)
} as const
