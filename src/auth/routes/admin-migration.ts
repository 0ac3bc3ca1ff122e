// GET /api/admin/migration: the migration's progress for the operator's page, the same
// computation as npm run legacy:report (legacy/migration-progress.ts). Registered inside the
// admin scope of the auth plugin (requireAdmin, lockdown); every read is audited.
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { authOf } from '../guards.js'
import { requestContext } from '../../core/request-context.js'
import { errorReplies } from '../../core/schemas.js'
import { migrationProgress } from '../legacy/migration-progress.js'

const Count = (description: string) => Type.Integer({ minimum: 0, description })
const NullableCount = (description: string) => Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description })

const InstanceSchema = Type.Object({
  instance: Type.String(),
  flags: Type.Object({
    newAuthEnabled: Type.Boolean(),
    newAuthPercentage: Type.Integer(),
    rollbackMode: Type.Boolean(),
    securityLockdown: Type.Boolean(),
    legacyAuthEnabled: Type.Boolean()
  }),
  override: Type.Union([Type.Object({ maxPercentage: Type.Integer(), reason: Type.String(), at: Type.String() }), Type.Null()]),
  effectivePercentage: Type.Integer(),
  at: Type.Integer({ description: 'epoch ms of its last heartbeat' })
})

const MigrationSchema = Type.Object({
  servers: Type.Object({
    count: Count('servers that published their rollout to Redis within the last 10 s'),
    effectivePercentage: NullableCount('the lowest effective percentage among them; null when no server published'),
    agree: Type.Boolean({ description: 'false while servers apply different percentages' }),
    legacyRetired: Type.Boolean({ description: 'every server runs with LEGACY_AUTH_ENABLED=false' }),
    instances: Type.Array(InstanceSchema)
  }),
  usersWithLiveLegacyFamilies: Count('users holding at least one live (not revoked, not expired) legacy refresh family'),
  liveFamilies: Count('live legacy refresh families'),
  inSessionsBucket: NullableCount('of those users, how many the sessions bucket covers (they move at their next refresh)'),
  stillLegacy: NullableCount('of those users, how many stay on legacy at that percentage'),
  verdict: Type.Object({
    safeToRetire: Type.Boolean({ description: 'no live legacy refresh family' }),
    text: Type.String()
  })
})

export const adminMigrationRoutes: FastifyPluginAsyncTypebox = async app => {
  app.get('/api/admin/migration', {
    schema: { tags: ['admin'], summary: 'The migration\'s progress: users still on legacy refresh families, the rollout\'s coverage, the verdict on retiring', response: { 200: MigrationSchema, ...errorReplies(401, 403, 503) } }
  }, async request => {
    app.audit.record({ type: 'ADMIN_READ', userId: null, ...requestContext(request), details: { adminId: authOf(request).userId, read: 'migration' } })
    return migrationProgress(app.db.sql, app.redis, app.config.redis.keyPrefix)
  })
}
