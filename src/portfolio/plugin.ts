// The portfolio feature in one encapsulated scope: every route registered here, now or later,
// needs a signed-in caller, is locked in SECURITY_LOCKDOWN, and has its Postgres errors
// translated into portfolio codes. Nothing here needs to be listed anywhere else.
import type { FastifyPluginAsync } from 'fastify'
import { lockRoutesInScope } from '../core/lockdown.js'
import { requireUser } from '../auth/guards.js'
import { translateDbError } from './errors.js'
import { portfolioRoutes } from './routes/portfolios.js'
import { adminPortfolioRoutes } from './routes/admin.js'

export interface PortfolioOptions {
  /** more routes mounted in this scope, under the same rules (how a test proves the scope locks) */
  extraRoutes?: FastifyPluginAsync
}

export const portfolioPlugin: FastifyPluginAsync<PortfolioOptions> = async (app, opts) => {
  lockRoutesInScope(app)
  app.addHook('onRequest', requireUser)
  // whatever this throws goes on to the app's error handler, which shapes and logs it
  app.setErrorHandler(async err => { throw translateDbError(err) })

  await app.register(portfolioRoutes, { config: app.config })
  await app.register(adminPortfolioRoutes) // adds requireAdmin in its own scope
  if (opts.extraRoutes) await app.register(opts.extraRoutes)
}
