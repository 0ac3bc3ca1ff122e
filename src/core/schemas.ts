// Schemas every part of the API shares: the error reply and the one UUID. Ajv's `format: 'uuid'`
// also accepts `urn:uuid:…`, which Postgres refuses to cast (a 500 once): ids are checked by a
// plain pattern, written here once.
import { Type } from '@sinclair/typebox'

export const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
export const UUID_RE = new RegExp(UUID_PATTERN)

/** a UUID as Postgres casts it: 36 characters, no urn prefix, no braces */
export const UuidSchema = (options: { description?: string } = {}) =>
  Type.String({ format: 'uuid', pattern: UUID_PATTERN, ...options })

/** `:id` of every route that addresses a row by its UUID */
export const UuidParamsSchema = Type.Object({ id: UuidSchema() })

export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String(),
  error: Type.String(),
  message: Type.String()
}, { $id: 'Error' })

/** the error replies of a route, for its response schema and the OpenAPI document */
export const errorReplies = (...codes: number[]): Record<number, typeof ErrorSchema> =>
  Object.fromEntries(codes.map(c => [c, ErrorSchema]))
