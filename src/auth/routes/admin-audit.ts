// GET /api/admin/audit: the audit log, newest first. It reads what src/audit writes, but it
// needs the admin guard, so it lives with auth (above audit) in the admin scope, which adds
// requireAdmin and lockdown. userId is checked by the shared UUID pattern: ajv's uuid format
// alone let `urn:uuid:…` through to Postgres (a 500 once).
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { UuidSchema, errorReplies } from '../../core/schemas.js'
import { requestContext } from '../../core/request-context.js'
import { authOf } from '../guards.js'

const AuditQuerySchema = Type.Object({
  userId: Type.Optional(UuidSchema()),
  type: Type.Optional(Type.String({ pattern: '^[A-Z_]{1,64}$' })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'rows at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'rows before this time' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 })
}, { additionalProperties: false })

const AuditRowSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  userId: Type.Union([Type.String(), Type.Null()]),
  sessionPublicId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' })
})

export const adminAuditRoutes: FastifyPluginAsyncTypebox = async app => {
  app.get('/api/admin/audit', {
    schema: { tags: ['admin'], querystring: AuditQuerySchema, response: { 200: Type.Object({ entries: Type.Array(AuditRowSchema) }), ...errorReplies(400, 401, 403) } }
  }, async request => {
    const { userId, type, from, to, limit } = request.query
    // admin reads are audited like admin changes: who looked at whose trail
    app.audit.record({ type: 'ADMIN_READ', userId: userId ?? null, ...requestContext(request), details: { adminId: authOf(request).userId, read: 'audit', ...(type ? { type } : {}) } })
    const sql = app.db.sql
    const rows = await sql<{ id: string; type: string; userId: string | null; sessionPublicId: string | null; ip: string | null; userAgent: string | null; details: Record<string, unknown>; createdAt: Date }[]>`
      select id::text, type, user_id as "userId", session_public_id as "sessionPublicId", host(ip) as ip,
             user_agent as "userAgent", details, created_at as "createdAt"
      from audit_logs
      where true ${userId ? sql`and user_id = ${userId}` : sql``} ${type ? sql`and type = ${type}` : sql``}
        ${from ? sql`and created_at >= ${from}::timestamptz` : sql``} ${to ? sql`and created_at < ${to}::timestamptz` : sql``}
      order by created_at desc, id desc
      limit ${limit}`
    return { entries: rows.map(r => ({ ...r, createdAt: r.createdAt.toISOString() })) }
  })
}
