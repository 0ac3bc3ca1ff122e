// buildApp(config, deps) → a ready-to-listen Fastify instance. The server and the tests
// build it the same way; plugins are registered here in one readable list.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { DestinationStream } from 'pino'
import type { Config } from './config/config.js'
import { loggerOptions } from './core/logger.js'
import { lazyChildLogger } from './core/lazy-child-logger.js'
import { installErrorHandler } from './core/error-handler.js'
import { installValidators } from './core/validation.js'
import { redisPlugin, type RedisClient } from './infra/redis.js'
import { dbPlugin, type Sql } from './infra/db.js'
import cookie from '@fastify/cookie'
import websocket from '@fastify/websocket'
import { healthRoutes } from './health/health-routes.js'
import { openapiPlugin } from './docs/openapi.js'
import { securityHeaders } from './core/security-headers.js'
import { auditPlugin } from './audit/audit-log.js'
import { authenticatePlugin } from './auth/authenticate.js'
import { sessionsPlugin } from './auth/sessions/plugin.js'
import { legacyPlugin } from './auth/legacy/plugin.js'
import { authStatsPlugin } from './auth/stats.js'
import { lockdownPlugin } from './core/lockdown.js'
import { refreshRoutes } from './auth/routes/refresh.js'
import { statusRoutes } from './auth/routes/status.js'
import { authRoutes } from './auth/routes/account.js'
import { sessionRoutes } from './auth/routes/sessions.js'
import { adminRoutes } from './auth/routes/admin-users.js'
import { portfolioRoutes } from './portfolio/routes/portfolios.js'
import { adminPortfolioRoutes } from './portfolio/routes/admin.js'
import { csrfOriginCheck } from './core/csrf.js'
import { loadCommonPasswords } from './auth/passwords/common-list.js'
import { rateLimitPlugin } from './core/rate-limits.js'
import { websocketOptions } from './prices/websocket-options.js'
import { pricesPlugin } from './prices/plugin.js'

export interface AppDeps {
  /** an existing Redis client (the caller closes it) */
  redis?: RedisClient
  /** an existing postgres.js pool (the caller closes it) */
  sql?: Sql
  /** where log lines go (tests capture them) */
  logStream?: DestinationStream
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

// A response finished after close() began would otherwise leave its keep-alive socket open
// and hold the shutdown until the grace period runs out: tell the client to hang up.
function closeKeepAliveOnShutdown (app: FastifyInstance): void {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}

export async function buildApp (config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, deps.logStream),
    trustProxy: config.trustProxy,
    genReqId: () => randomUUID(),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: 64 * 1024, // the API takes small JSON bodies; anything larger is a 413
    requestTimeout: 30_000,
    keepAliveTimeout: 72_000, // longer than a typical load balancer's idle timeout
    return503OnClosing: true
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.decorate('config', config)
  installErrorHandler(app)
  installValidators(app)
  closeKeepAliveOnShutdown(app)

  await app.register(redisPlugin, { config, ...(deps.redis ? { client: deps.redis } : {}) })
  await app.register(dbPlugin, { config, ...(deps.sql ? { sql: deps.sql } : {}) })

  // infrastructure and cross-cutting hooks, in the order they run on a request
  await app.register(openapiPlugin) // first: it collects the schemas of every route below
  await app.register(cookie)
  await app.register(websocket, websocketOptions) // sets request.ws in onRequest, before authenticate
  await app.register(securityHeaders, { config })
  await app.register(auditPlugin)
  await app.register(sessionsPlugin, { config })
  await app.register(legacyPlugin, { config })
  await app.register(authStatsPlugin)
  await app.register(lockdownPlugin, { config })
  await app.register(authenticatePlugin, { config })
  await app.register(csrfOriginCheck, { config })
  await app.register(rateLimitPlugin, { config })

  loadCommonPasswords() // decompress the list now, not during the first registration

  // routes
  await app.register(healthRoutes, { config })
  await app.register(authRoutes, { config })
  await app.register(refreshRoutes, { config })
  await app.register(statusRoutes, { config })
  await app.register(sessionRoutes, { config })
  await app.register(adminRoutes)
  await app.register(portfolioRoutes, { config })
  await app.register(adminPortfolioRoutes)
  await app.register(pricesPlugin, { config })

  return app
}
