// The one error handler: full context to the log, and to the client only what is safe —
// the message below 500, a generic one at and above. No stack, query or secret leaves, and
// every reply carries a code of the catalogue (errors.ts): Fastify's own FST_* codes and
// Postgres SQLSTATEs are translated here, once, for every route.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_CATALOGUE, isErrorCode, type ErrorCode } from './errors.js'
import { unavailableDependency } from './dependency-errors.js'
import { createDependencyLog, type DependencyLog } from './dependency-log.js'

export interface WireError {
  statusCode: number
  code: ErrorCode
  error: string
  message: string
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

// the errors a client can provoke in Fastify before a handler runs
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_CONTENT_LENGTH',
  FST_ERR_BAD_URL: 'BAD_URL',
  FST_ERR_MAX_PARAM_LENGTH: 'URL_TOO_LONG',
  FST_ERR_ASYNC_CONSTRAINT: 'BAD_REQUEST'
}

// SQLSTATE class 23 (integrity constraint violation): a clash with existing rows is a conflict,
// a value the table refuses (not null, check) is bad input
const CONFLICT_STATES = new Set(['23505', '23503', '23P01'])

/** the house code of a Postgres data or constraint error, else undefined */
function postgresCode (err: FastifyError): ErrorCode | undefined {
  if (err.name !== 'PostgresError' || typeof err.code !== 'string') return undefined
  if (err.code.startsWith('22')) return 'INVALID_INPUT'
  if (err.code.startsWith('23')) return CONFLICT_STATES.has(err.code) ? 'CONFLICT' : 'INVALID_INPUT'
  return undefined
}

function wire (code: ErrorCode, message: string = ERROR_CATALOGUE[code].message): WireError {
  const statusCode = ERROR_CATALOGUE[code].status
  return { statusCode, code, error: STATUS_TEXT[statusCode] ?? 'Error', message }
}

export function toWireError (err: FastifyError): WireError {
  if (err.validation) return wire('VALIDATION_FAILED', err.message)
  const fastifyCode = err.code ? FASTIFY_CODES[err.code] : undefined
  if (fastifyCode) return wire(fastifyCode)
  const pgCode = postgresCode(err)
  if (pgCode) return wire(pgCode)
  // Redis or Postgres down, too slow or refusing (OOM, READONLY, CLUSTERDOWN …): never a 500
  if ((err.statusCode ?? 500) === 500 && unavailableDependency(err) !== null) return wire('DEPENDENCY_UNAVAILABLE')
  // a code of ours keeps its status and message (e.g. 503 SECURITY_LOCKDOWN, 404 NOT_FOUND)
  if (isErrorCode(err.code) && err.statusCode === ERROR_CATALOGUE[err.code].status && err.code !== 'INTERNAL_ERROR') {
    return wire(err.code, err.message)
  }
  const status = err.statusCode ?? 500
  // any other client error Fastify or a plugin raises: still a house code, never FST_* on the wire
  if (status >= 400 && status < 500) return wire('BAD_REQUEST')
  return wire('INTERNAL_ERROR')
}

function answer (err: FastifyError, request: FastifyRequest, reply: FastifyReply, dependencyLog: DependencyLog | null): void {
  const wireError = toWireError(err)
  const dependency = wireError.statusCode === 503 ? unavailableDependency(err) : null
  // an outage is logged per state change and counted, not once per request (dependency-log.ts)
  if (dependency && dependencyLog) dependencyLog.failed(dependency, err)
  else if (wireError.statusCode >= 500) request.log.error({ err }, 'request failed')
  else if (wireError.code === 'BAD_REQUEST') request.log.warn({ err }, 'client error without a house code')
  else request.log.info({ code: wireError.code, statusCode: wireError.statusCode }, wireError.message)
  reply.code(wireError.statusCode).send(wireError)
}

/** answers an error in the house shape; logs the full error at and above 500 */
export function sendWireError (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  answer(err, request, reply, null)
}

export function installErrorHandler (app: FastifyInstance, { dependencyLogIntervalMs = 10_000 }: { dependencyLogIntervalMs?: number } = {}): void {
  const dependencyLog = createDependencyLog(app.log, dependencyLogIntervalMs)
  app.addHook('onClose', async () => { dependencyLog.close() })
  app.setErrorHandler((err: FastifyError, request, reply) => { answer(err, request, reply, dependencyLog) })
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(wire('ROUTE_NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`))
  })
}
