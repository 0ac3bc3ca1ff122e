// buildApp(config, deps) → a ready-to-listen Fastify instance. The server and the tests
// build it the same way. Composition only, layer by layer: core → infra → audit → auth →
// features; each layer's own order lives in its plugin.
import { randomUUID } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import cookie from '@fastify/cookie'
import websocket from '@fastify/websocket'
import type { DestinationStream } from 'pino'
import type { Config } from './config/config.js'
import { installErrorHandler, sendWireError } from './core/error-handler.js'
import { lazyChildLogger } from './core/lazy-child-logger.js'
import { lockdownPlugin } from './core/lockdown.js'
import { loggerOptions } from './core/logger.js'
import { securityHeaders } from './core/security-headers.js'
import { installValidators } from './core/validation.js'
import { dbPlugin, type Sql } from './infra/db.js'
import { redisPlugin, type RedisClient } from './infra/redis.js'
import { auditPlugin } from './audit/plugin.js'
import { authPlugin } from './auth/plugin.js'
import { openapiPlugin } from './docs/openapi.js'
import { healthRoutes } from './health/health-routes.js'
import { portfolioPlugin } from './portfolio/plugin.js'
import { pricesPlugin } from './prices/plugin.js'
import { opsPlugin } from './ops/plugin.js'
import { retentionPlugin } from './ops/retention-plugin.js'
import { websocketOptions } from './prices/websocket-options.js'
import { webPlugin } from './web/plugin.js'

export interface AppDeps {
  /** an existing Redis client (the caller closes it) */
  redis?: RedisClient
  /** an existing postgres.js pool (the caller closes it) */
  sql?: Sql
  /** where log lines go (tests capture them) */
  logStream?: DestinationStream
  /** routes mounted inside the portfolio scope, under its rules (tests prove the scope with it) */
  portfolioExtraRoutes?: FastifyPluginAsync
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

// Fastify's types omit the hop count its runtime accepts: a count is the function it compiles to
function fastifyTrustProxy (value: Config['trustProxy']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value
  return typeof value === 'boolean' ? value : [...value]
}

export async function buildApp (config: Config, deps: AppDeps = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, deps.logStream),
    trustProxy: fastifyTrustProxy(config.trustProxy),
    genReqId: () => randomUUID(),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: 64 * 1024, // the API takes small JSON bodies; anything larger is a 413
    requestTimeout: Math.min(30_000, Math.floor(config.shutdownTimeoutMs / 2)), // a slow upload cannot hold a shutdown past its grace
    keepAliveTimeout: 72_000, // longer than a typical load balancer's idle timeout
    return503OnClosing: true,
    // a malformed URL or an over-long parameter is refused before routing: same house shape
    frameworkErrors: sendWireError
  }).withTypeProvider<TypeBoxTypeProvider>()

  // core: error shape, validation, docs, cookies, headers, lockdown (before anything authenticates)
  app.decorate('config', config)
  installErrorHandler(app, { dependencyLogIntervalMs: config.dependencyLogIntervalMs })
  installValidators(app)
  // the API speaks JSON only: a text/plain body is refused (415) like any other type, rather
  // than parsed into a string that a route without a body schema would accept
  app.removeContentTypeParser('text/plain')
  closeKeepAliveOnShutdown(app)
  await app.register(openapiPlugin) // first: it collects the schemas of every route below
  await app.register(cookie)
  await app.register(websocket, websocketOptions) // sets request.ws in its onRequest hook, before authenticate's
  await app.register(securityHeaders, { config })
  await app.register(lockdownPlugin, { config })

  // infra
  await app.register(redisPlugin, { config, ...(deps.redis ? { client: deps.redis } : {}) })
  await app.register(dbPlugin, { config, ...(deps.sql ? { sql: deps.sql } : {}) })

  // audit, then auth (its hooks, then its routes)
  await app.register(auditPlugin)
  await app.register(authPlugin, { config })

  // features
  await app.register(healthRoutes, { config })
  await app.register(portfolioPlugin, deps.portfolioExtraRoutes ? { extraRoutes: deps.portfolioExtraRoutes } : {})
  await app.register(pricesPlugin, { config })
  await app.register(opsPlugin, { config })
  await app.register(retentionPlugin, { config })
  await app.register(webPlugin) // the pages: static files that call the API above

  return app
}
