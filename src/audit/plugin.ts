// The audit writer as app.audit: decorated once, flushed before the pool closes.
import fp from 'fastify-plugin'
import { createAuditLog, type AuditEvent, type AuditLog, type AuditOptions, type AuditWriter } from './audit-log.js'

// Of the shutdown grace, what the audit flush leaves for the rest of onClose (ending the pool,
// Redis, the process exit) so the process still exits 0 on time.
const SHUTDOWN_RESERVE_MS = 4000
const RETRY_EVERY_MS = 200

/**
 * Writes the queue, retrying while Postgres refuses, until `deadline`: a shutdown during an
 * outage that ends within the grace period loses no row. Resolves either way (close() logs
 * what could not be written).
 */
async function flushUntil (writer: AuditWriter, deadline: number): Promise<void> {
  for (;;) {
    try {
      await writer.flush()
      return
    } catch {
      if (Date.now() + RETRY_EVERY_MS >= deadline) return
      await new Promise(resolve => setTimeout(resolve, RETRY_EVERY_MS))
    }
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    audit: AuditLog & {
      /** calls fn with every event recorded or tallied (metrics count them by type) */
      observe: (fn: (event: AuditEvent) => void) => void
    }
  }
}

export const auditPlugin = fp<{ audit?: Partial<AuditOptions> }>(async (app, opts) => {
  const writer = createAuditLog(app.db.sql, app.log, opts.audit)
  const observers: Array<(event: AuditEvent) => void> = []
  const tell = (event: AuditEvent): void => { for (const fn of observers) fn(event) }
  app.decorate('audit', {
    record: event => { tell(event); writer.record(event) },
    tally: event => { tell(event); writer.tally(event) },
    flush: writer.flush,
    observe: fn => { observers.push(fn) }
  })
  // refusals that happen before any route runs (CSRF, per-IP limits) are audited here, by
  // their house code, so core hooks need not know about the audit log
  // callback style: it runs on every error reply, and most are not these two
  app.addHook('onError', (request, _reply, error, done) => {
    const code = (error as { code?: unknown }).code
    if (code !== 'CSRF_ORIGIN_REJECTED' && code !== 'RATE_LIMITED') { done(); return }
    app.audit.tally({
      type: code === 'RATE_LIMITED' ? 'RATE_LIMITED' : 'CSRF_REFUSED',
      // request.auth is typed by the auth layer above this one: read it structurally
      userId: (request as { auth?: { userId?: string } | null }).auth?.userId ?? null,
      ip: request.ip,
      userAgent: request.headers['user-agent'] ?? null,
      details: { route: request.routeOptions.url ?? null, method: request.method }
    })
    done()
  })
  // Shutdown: preClose runs once the server refuses new requests, while the in-flight ones
  // finish; onClose writes what those recorded. Both retry until the grace period's end less
  // a reserve. onClose hooks run last-added first (avvio unshifts them): this plugin is
  // registered after the db plugin, so this runs before the pool is ended (test/audit.test.ts
  // proves it).
  let deadline = Infinity
  app.addHook('preClose', async () => {
    deadline = Date.now() + Math.max(0, app.config.shutdownTimeoutMs - SHUTDOWN_RESERVE_MS)
    await flushUntil(writer, deadline)
  })
  app.addHook('onClose', async () => {
    await flushUntil(writer, deadline)
    await writer.close()
  })
}, { name: 'audit', dependencies: ['db'] })
