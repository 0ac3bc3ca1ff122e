// Every error code the API answers with, defined once with its status and its meaning (the
// README's Errors table is checked against this list). Clients rely on `code`; messages may be
// reworded. Shape on the wire: { statusCode, code, error, message }.
import createError, { type FastifyErrorConstructor } from '@fastify/error'

interface CodeDefinition {
  status: number
  /** the message sent (`%s` is filled by the thrower) */
  message: string
  /** what it means for a client: the README's Errors table */
  meaning: string
}

export const ERROR_CATALOGUE = {
  // the request itself
  VALIDATION_FAILED: { status: 400, message: '%s', meaning: 'A parameter, query or body field does not match the route\'s schema; the message names it' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON', meaning: 'The body could not be parsed as JSON (or was empty while Content-Type said JSON)' },
  INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length does not match the body', meaning: 'The Content-Length header disagrees with the body that was sent' },
  INVALID_INPUT: { status: 400, message: 'A value has an invalid form', meaning: 'A value passed the schema but the database could not take it (Postgres data exception)' },
  BAD_URL: { status: 400, message: 'The URL is malformed', meaning: 'The path could not be decoded (a broken percent-encoding)' },
  URL_TOO_LONG: { status: 414, message: 'A path parameter is too long', meaning: 'A path segment exceeds the router\'s parameter length limit' },
  BAD_REQUEST: { status: 400, message: 'The request could not be understood', meaning: 'Any other malformed request the server refused before it reached a route' },
  BODY_TOO_LARGE: { status: 413, message: 'The body is larger than the server accepts (64 KB)', meaning: 'The body exceeds the body limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as JSON with Content-Type: application/json', meaning: 'A body was sent without `Content-Type: application/json`' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No route %s', meaning: 'No route has this method and path' },
  // authentication and authorization
  AUTH_REQUIRED: { status: 401, message: 'Authentication required', meaning: 'No valid session cookie or Bearer token came with the request' },
  SESSION_EXPIRED: { status: 401, message: 'Your session has ended; log in again', meaning: 'The session cookie sent no longer validates (logged out, revoked, expired or replaced); the reply clears it' },
  AUTH_FORBIDDEN: { status: 403, message: 'Not allowed', meaning: 'Signed in, but the role does not allow this route (admin routes)' },
  AUTH_INVALID_CREDENTIALS: { status: 401, message: 'Invalid email or password', meaning: 'Login refused: unknown email or wrong password (the same answer, in the same time)' },
  AUTH_EMAIL_TAKEN: { status: 409, message: 'An account with this email already exists', meaning: 'Registration with an email already in use' },
  AUTH_PASSWORD_REJECTED: { status: 400, message: '%s', meaning: 'The new password is too short, too long, common, or contains the email' },
  AUTH_ACCOUNT_DISABLED: { status: 403, message: 'This account is disabled', meaning: 'An admin disabled the account; logins and refreshes are refused' },
  AUTH_CREDENTIALS_CHANGED: { status: 401, message: 'The account\'s credentials changed while this request ran; log in again', meaning: 'A password change, disable, logout-all or role change happened while this login or refresh ran; nothing was issued' },
  AUTH_TOO_MANY_ATTEMPTS: { status: 429, message: 'Too many failed logins for this account; try again later', meaning: 'Failed logins of this account back off; `Retry-After` says when to try again' },
  AUTH_REFRESH_INVALID: { status: 401, message: 'Refresh token is invalid or expired; log in again', meaning: 'The refresh token is unknown, expired or revoked' },
  AUTH_REFRESH_RACE: { status: 409, message: 'This refresh token was just rotated by a parallel request; use the newest tokens', meaning: 'A parallel refresh rotated this token within the grace window; use the tokens it returned' },
  AUTH_LEGACY_RETIRED: { status: 401, message: 'Legacy tokens are no longer accepted; sign in again to get a session', meaning: '`LEGACY_AUTH_ENABLED` is false: a Bearer access token, a refresh token or a WebSocket token auth is refused; signing in gives a session cookie' },
  AUTH_REFRESH_REUSED: { status: 401, message: 'Refresh token reuse detected; every token of this login was revoked', meaning: 'A rotated refresh token came back after the grace window: the whole family is revoked' },
  CSRF_ORIGIN_REJECTED: { status: 403, message: 'Cross-site request refused: the Origin header (%s) is not in the server\'s ALLOWED_ORIGINS', meaning: 'A cookie-carrying (or login) state change came from an origin not in `ALLOWED_ORIGINS`' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later', meaning: 'The per-IP limit of an auth endpoint is reached; `Retry-After` says when to try again' },
  // data
  NOT_FOUND: { status: 404, message: '%s not found', meaning: 'The addressed row does not exist or is not the caller\'s (the same answer for both)' },
  CONFLICT: { status: 409, message: 'The change conflicts with existing data', meaning: 'A uniqueness or reference constraint refused the write' },
  EMPTY_UPDATE: { status: 400, message: 'Nothing to update: send at least one field', meaning: 'A PATCH with no field to change' },
  INVALID_CURSOR: { status: 400, message: 'The cursor is not one this list handed out', meaning: 'The `cursor` is not a `nextCursor` of this list' },
  HOLDING_EXISTS: { status: 409, message: 'This portfolio already holds that symbol', meaning: 'A holding for this symbol already exists in the portfolio' },
  INSUFFICIENT_QUANTITY: { status: 422, message: 'Cannot sell more than the holding\'s quantity', meaning: 'A sell exceeds the quantity held; nothing changed' },
  VALUE_OUT_OF_RANGE: { status: 422, message: 'A resulting amount is out of range (at most 20 digits before the point)', meaning: 'A resulting amount would exceed numeric(28, 8)' },
  // live prices
  PRICES_UNKNOWN_SYMBOL: { status: 400, message: 'Unknown symbol: %s', meaning: 'A symbol not in the price feed\'s universe (`PRICE_SYMBOLS`), in `GET /api/prices` or a subscribe frame' },
  WS_ORIGIN_REJECTED: { status: 403, message: 'WebSocket upgrade from a foreign or missing Origin refused', meaning: 'The `/ws/prices` upgrade came from an origin not in `ALLOWED_ORIGINS`, or with a cookie and no Origin' },
  WS_UPGRADE_REQUIRED: { status: 426, message: 'This address speaks WebSocket only', meaning: 'A plain GET of `/ws/prices`' },
  // the service
  SECURITY_LOCKDOWN: { status: 503, message: 'The service is in security lockdown; try again later', meaning: '`SECURITY_LOCKDOWN` is on: logins, refreshes, data and admin routes are refused' },
  REVOCATION_UNCONFIRMED: { status: 503, message: 'The revocation is recorded, but Redis could not confirm it; revoked tokens are refused through the database until it does. Retry to confirm', meaning: 'A logout, disable or revoke was committed in Postgres, but Redis refused or missed its part (full, read-only, down): legacy token checks fall back to Postgres, which refuses the revoked tokens; retrying is safe' },
  DEPENDENCY_UNAVAILABLE: { status: 503, message: 'A backing service is unavailable; try again shortly', meaning: 'Redis or Postgres is down or too slow; retry shortly' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side', meaning: 'A bug; the details are in the server log, never in the reply' }
} as const satisfies Record<string, CodeDefinition>

export type ErrorCode = keyof typeof ERROR_CATALOGUE

export function isErrorCode (code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CATALOGUE, code)
}

type Constructors = { [C in ErrorCode]: FastifyErrorConstructor<{ code: C, statusCode: (typeof ERROR_CATALOGUE)[C]['status'] }> }

/** `throw new Errors.NOT_FOUND('Portfolio')`: one constructor per code of the catalogue */
export const Errors = Object.fromEntries(
  Object.entries(ERROR_CATALOGUE).map(([code, d]) => [code, createError(code, d.message, d.status)])
) as unknown as Constructors
