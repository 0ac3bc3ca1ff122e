// The OpenAPI document, generated from the routes' own TypeBox schemas (dynamic mode), at
// GET /docs/json. Registered first in app.ts: @fastify/swagger collects routes through an
// onRoute hook, so it only sees the routes registered after it.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'

const OPENAPI_TAGS = [
  { name: 'auth', description: 'Login, logout, registration, password change, legacy token refresh' },
  { name: 'sessions', description: 'The caller\'s devices (sessions): list and revoke' },
  { name: 'admin', description: 'Administration: users, their sessions; admin role required' },
  { name: 'portfolio', description: 'Portfolios, holdings and transactions, scoped to the caller by Row Level Security' },
  { name: 'ops', description: 'Health probes and metrics' }
]

const DESCRIPTION = 'The authentication and data API of a portfolio tracker. Browser clients log in and ' +
  'get an opaque session id in an HttpOnly cookie (`__Host-sid` over HTTPS in production, `sid` on a plain-http ' +
  'development origin); legacy clients send a Bearer access JWT and rotate a refresh token. Every read and write ' +
  'of financial data is scoped to the caller by Postgres Row Level Security. Errors have the shape ' +
  '`{ statusCode, code, error, message }`, where `code` is stable and `message` may change.'

export const openapiPlugin = fp(async app => {
  const cookieName = app.config.session.cookieName
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0', // JSON Schema as TypeBox writes it: nullable unions and const stay valid
      info: { title: 'hallpass', version: '0.1.0', description: DESCRIPTION },
      components: {
        securitySchemes: {
          cookieAuth: {
            type: 'apiKey',
            in: 'cookie',
            name: cookieName,
            description: `The session cookie: \`${cookieName}\` on this server (\`__Host-sid\` when the cookie is Secure, \`sid\` otherwise). State-changing requests must also come from an allowed Origin.`
          },
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'A legacy access JWT (HS256) for clients not yet on sessions.'
          }
        }
      },
      tags: OPENAPI_TAGS
    }
  })

  app.get('/docs/json', { schema: { hide: true } }, async () => app.swagger())
  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs/json', 302))
}, { name: 'openapi' })
