// PLACEHOLDER (to be implemented): audit rows written off the response path, flushed on close.
import fp from 'fastify-plugin'

export type AuditType =
  | 'LOGIN_SUCCESS' | 'LOGIN_FAILURE' | 'LOGOUT' | 'SESSION_REVOKED' | 'SESSIONS_REVOKED_ALL'
  | 'SESSION_EVICTED' | 'PASSWORD_CHANGED' | 'SESSION_ANOMALY' | 'USER_REGISTERED'
  | 'ADMIN_SESSIONS_REVOKED' | 'ADMIN_USER_DISABLED' | 'ADMIN_USER_ENABLED' | 'ADMIN_PORTFOLIOS_READ'
  | 'TOKEN_REUSE_ATTACK'

export interface AuditEvent {
  type: AuditType
  userId?: string | null
  sessionPublicId?: string | null
  ip?: string | null
  userAgent?: string | null
  details?: Record<string, unknown>
}

export interface AuditLog {
  /** queues the row; never throws, never waits for Postgres */
  record: (event: AuditEvent) => void
  /** writes everything queued so far */
  flush: () => Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog
  }
}

export const auditPlugin = fp(async app => {
  app.decorate('audit', { record: () => {}, flush: async () => {} } satisfies AuditLog)
}, { name: 'audit', dependencies: ['db'] })
