// The audit writer as app.audit: decorated once, flushed before the pool closes.
import fp from 'fastify-plugin'
import { createAuditLog, type AuditLog, type AuditOptions } from './audit-log.js'

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog
  }
}

export const auditPlugin = fp<{ audit?: Partial<AuditOptions> }>(async (app, opts) => {
  const writer = createAuditLog(app.db.sql, app.log, opts.audit)
  app.decorate('audit', { record: writer.record, flush: writer.flush } satisfies AuditLog)
  // onClose hooks run last-added first (avvio unshifts them): this plugin is registered
  // after the db plugin, so this runs before the pool is ended (test/audit.test.ts proves it)
  app.addHook('onClose', async () => {
    await writer.close()
  })
}, { name: 'audit', dependencies: ['db'] })
