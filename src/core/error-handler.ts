// The one error handler: full context to the log, and to the client only what is safe —
// the message below 500, a generic one at and above. No stack, query or secret leaves.
import type { FastifyError, FastifyInstance } from 'fastify'

interface WireError {
  statusCode: number
  code: string
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
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable'
}

// errors of ioredis and postgres.js that mean "the dependency is down", not "a bug"
function isDependencyDown (err: Error & { code?: string; name?: string }): boolean {
  return err.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|Command timed out/.test(err.message) ||
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', '57014'].includes(err.code ?? '')
}

function toWireError (err: FastifyError): WireError {
  if (err.validation) {
    return { statusCode: 400, code: 'VALIDATION_FAILED', error: 'Bad Request', message: err.message }
  }
  let status = err.statusCode ?? 500
  if (status < 400 || status > 599) status = 500
  if (status >= 500) {
    if (status === 500 && isDependencyDown(err)) {
      return { statusCode: 503, code: 'DEPENDENCY_UNAVAILABLE', error: 'Service Unavailable', message: 'A backing service is unavailable; try again shortly' }
    }
    // a 5xx we raised on purpose (e.g. 503 SECURITY_LOCKDOWN) keeps its code and message
    if (err.code && /^[A-Z][A-Z_]+$/.test(err.code) && status !== 500) {
      return { statusCode: status, code: err.code, error: STATUS_TEXT[status] ?? 'Error', message: err.message }
    }
    return { statusCode: 500, code: 'INTERNAL_ERROR', error: 'Internal Server Error', message: 'Something went wrong on our side' }
  }
  return { statusCode: status, code: err.code ?? 'ERROR', error: STATUS_TEXT[status] ?? 'Error', message: err.message }
}

export function installErrorHandler (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const wire = toWireError(err)
    if (wire.statusCode >= 500) request.log.error({ err }, 'request failed')
    else request.log.info({ code: wire.code, statusCode: wire.statusCode }, wire.message)
    reply.code(wire.statusCode).send(wire)
  })
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, code: 'ROUTE_NOT_FOUND', error: 'Not Found', message: `No route ${request.method} ${request.url.split('?')[0]}` })
  })
}
