// GET /api/auth/status: the rollout flags in force on this instance (LEGACY_AUTH_ENABLED=false
// shows the legacy path retired) and its logins by mode.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config/config.js'
import { effectivePercentage } from '../rollout.js'

const StatusSchema = Type.Object({
  flags: Type.Object({
    newAuthEnabled: Type.Boolean(),
    newAuthPercentage: Type.Integer(),
    rollbackMode: Type.Boolean(),
    securityLockdown: Type.Boolean(),
    legacyAuthEnabled: Type.Boolean({ description: 'false: legacy JWTs are retired (every login gets a session)' })
  }),
  effectivePercentage: Type.Integer({ description: 'share of users who get sessions at login now' }),
  override: Type.Union([Type.Object({
    maxPercentage: Type.Integer(),
    reason: Type.String(),
    at: Type.String()
  }), Type.Null()], { description: 'the rollback override in force (npm run rollout -- --clear removes it), or null' }),
  since: Type.String({ format: 'date-time' }),
  logins: Type.Object({ session: Type.Integer(), legacy: Type.Integer() }),
  upgrades: Type.Integer({ description: 'legacy refreshes turned into sessions' })
})

export const statusRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (app, { config }) => {
  const since = new Date().toISOString()
  app.get('/api/auth/status', { schema: { tags: ['ops'], response: { 200: StatusSchema } } }, async () => ({
    flags: { ...config.rollout },
    effectivePercentage: effectivePercentage(config.rollout, app.rolloutOverride.current?.maxPercentage ?? null),
    override: app.rolloutOverride.current,
    since,
    logins: { ...app.authStats.logins },
    upgrades: app.authStats.upgrades
  }))
}
