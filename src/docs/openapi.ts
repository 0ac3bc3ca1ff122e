// The OpenAPI document, generated from the routes' own TypeBox schemas (dynamic mode), at
// GET /docs/json, and a readable reference of it at GET /docs (Swagger UI, its assets served by
// this app). Registered first in app.ts: @fastify/swagger collects routes through an onRoute
// hook, so it only sees the routes registered after it. DOCS_ENABLED=false serves neither.
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

/**
 * Operations that answer without a credential; every other one needs the session cookie or a
 * Bearer token. A list rather than a guess from the hooks: test/openapi.test.ts calls every
 * operation without a credential and holds this list to what the server does.
 */
const PUBLIC_OPERATIONS = new Set([
  'POST /api/auth/register',
  'POST /api/auth/login',
  'POST /api/auth/refresh',
  'GET /api/auth/status',
  'GET /api/health',
  'GET /api/health/ready',
  'GET /api/health/auth-legacy',
  'GET /api/health/auth-v2'
])

const SIGNED_IN: Array<Record<string, string[]>> = [{ cookieAuth: [] }, { bearerAuth: [] }]

/**
 * Swagger UI's own policy: its scripts and styles from this app only; it sets style attributes
 * from script, hence 'unsafe-inline' for styles (never for scripts). Tighter than the pages'
 * policy needs to be nowhere else.
 */
const DOCS_CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

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
      tags: OPENAPI_TAGS,
      // relative: the document describes whichever origin serves it
      servers: [{ url: '/', description: 'this server' }]
    },
    transform: ({ schema, url, route }) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method]
      const open = methods.some(m => PUBLIC_OPERATIONS.has(`${m} ${url}`))
      return { schema: { ...schema, security: open ? [] : SIGNED_IN }, url }
    }
  })

  if (!app.config.docsEnabled) return
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: DOCS_CSP,
    uiConfig: { validatorUrl: null, deepLinking: false, tryItOutEnabled: false }
  })
}, { name: 'openapi' })
