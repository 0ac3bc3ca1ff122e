// Authentication as one plugin, its pieces registered in the order they must run: the session
// and legacy stores, the authenticate hook, then the hooks that read what it set (CSRF) and
// the rate limits the routes opt into, then the routes. The admin routes share one scope that
// adds requireAdmin and lockdown, so an admin route added there is guarded without a list.
import fp from 'fastify-plugin'
import type { Config } from '../config/config.js'
import { csrfOriginCheck } from '../core/csrf.js'
import { lockRoutesInScope } from '../core/lockdown.js'
import { rateLimitPlugin } from '../core/rate-limits.js'
import { authenticatePlugin } from './authenticate.js'
import { requireAdmin } from './guards.js'
import { legacyPlugin } from './legacy/plugin.js'
import { loadCommonPasswords } from './passwords/common-list.js'
import { adminAuditRoutes } from './routes/admin-audit.js'
import { adminRoutes } from './routes/admin-users.js'
import { authRoutes } from './routes/account.js'
import { refreshRoutes } from './routes/refresh.js'
import { sessionRoutes } from './routes/sessions.js'
import { statusRoutes } from './routes/status.js'
import { sessionsPlugin } from './sessions/plugin.js'
import { authStatsPlugin } from './stats.js'
import { rolloutOverridePlugin } from './rollout-override.js'
import { rolloutPublisherPlugin } from './rollout-instances.js'
import { adminMigrationRoutes } from './routes/admin-migration.js'

export const authPlugin = fp<{ config: Config }>(async (app, { config }) => {
  await app.register(sessionsPlugin, { config })
  await app.register(legacyPlugin, { config })
  await app.register(authStatsPlugin)
  await app.register(rolloutOverridePlugin, { keyPrefix: config.redis.keyPrefix })
  await app.register(rolloutPublisherPlugin, { config })
  await app.register(authenticatePlugin, { config })
  await app.register(csrfOriginCheck, { config })
  await app.register(rateLimitPlugin, { config })

  loadCommonPasswords() // decompress the list now, not during the first registration

  await app.register(authRoutes, { config })
  await app.register(refreshRoutes, { config })
  await app.register(statusRoutes, { config })
  await app.register(sessionRoutes, { config })
  await app.register(async admin => {
    lockRoutesInScope(admin)
    admin.addHook('onRequest', requireAdmin)
    await admin.register(adminRoutes)
    await admin.register(adminAuditRoutes)
    await admin.register(adminMigrationRoutes)
  })
}, { name: 'auth', dependencies: ['redis', 'db', 'audit', 'lockdown'] })
