// Logins by mode since this instance started, for GET /api/auth/status: ops watch the
// session share grow as NEW_AUTH_PERCENTAGE rises.
import fp from 'fastify-plugin'

interface AuthStats {
  logins: { session: number; legacy: number }
  upgrades: number
}

declare module 'fastify' {
  interface FastifyInstance {
    authStats: AuthStats
  }
}

export const authStatsPlugin = fp(async app => {
  app.decorate('authStats', { logins: { session: 0, legacy: 0 }, upgrades: 0 } satisfies AuthStats)
}, { name: 'auth-stats' })
